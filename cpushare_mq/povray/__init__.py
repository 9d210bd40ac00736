"""cpushare_mq.povray"""
