"""cpushare_mq.hub"""
