"""cpushare_mq.sandbox"""
