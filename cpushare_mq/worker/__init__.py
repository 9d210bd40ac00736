"""cpushare_mq.worker"""
