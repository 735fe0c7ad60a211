"""The national interface (国家医保信息平台接口): the ``callService`` envelope, its fields, its
transactions (1101, 2101–2103, 2206–2208, 2303–2305, 3201, 9001/9002) mapped onto the
settlement and mutual-aid use cases (docs/rules.md §8.6, docs/national-interface.md).
"""
