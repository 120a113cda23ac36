"""The dashboards wing: the Forum, Ambition, Locality and KPQ pages, their charts, board members'
judgements and board reports. The top wing: it may import every other."""
