# SPDX-License-Identifier: BSD-3-Clause
"""log_* methods: levels, flags, timestamps."""

LEVELS = ('ERROR', 'WARNING', 'NOTICE', 'INFO', 'DEBUG')


def log_set_level(client, level):
    return client.call('log_set_level', {'level': level})


def log_get_level(client):
    return client.call('log_get_level')


def log_set_print_level(client, level):
    return client.call('log_set_print_level', {'level': level})


def log_get_print_level(client):
    return client.call('log_get_print_level')


def log_set_flag(client, flag):
    return client.call('log_set_flag', {'flag': flag})


def log_clear_flag(client, flag):
    return client.call('log_clear_flag', {'flag': flag})


def log_get_flags(client):
    return client.call('log_get_flags')


def log_enable_timestamps(client, enabled):
    return client.call('log_enable_timestamps', {'enabled': enabled})


def add_parsers(sub):
    level_help = 'one of ' + ', '.join(LEVELS)

    p = sub.add_parser('log_set_level', help='Set the log level')
    p.add_argument('level', help=level_help)
    p.set_defaults(run=lambda c, a: log_set_level(c, a.level))

    p = sub.add_parser('log_get_level', help='Get the log level')
    p.set_defaults(run=lambda c, a: log_get_level(c))

    p = sub.add_parser('log_set_print_level', help='Set the level printed to the console')
    p.add_argument('level', help=level_help)
    p.set_defaults(run=lambda c, a: log_set_print_level(c, a.level))

    p = sub.add_parser('log_get_print_level', help='Get the level printed to the console')
    p.set_defaults(run=lambda c, a: log_get_print_level(c))

    p = sub.add_parser('log_set_flag', help='Enable a log flag ("all" for every flag)')
    p.add_argument('flag', help='log flag name')
    p.set_defaults(run=lambda c, a: log_set_flag(c, a.flag))

    p = sub.add_parser('log_clear_flag', help='Disable a log flag ("all" for every flag)')
    p.add_argument('flag', help='log flag name')
    p.set_defaults(run=lambda c, a: log_clear_flag(c, a.flag))

    p = sub.add_parser('log_get_flags', help='List log flags and whether each is enabled')
    p.set_defaults(run=lambda c, a: log_get_flags(c))

    p = sub.add_parser('log_enable_timestamps', help='Enable or disable log timestamps')
    g = p.add_mutually_exclusive_group()
    g.add_argument('-e', '--enable', dest='enabled', action='store_true', default=True,
                   help='enable timestamps (default)')
    g.add_argument('-d', '--disable', dest='enabled', action='store_false',
                   help='disable timestamps')
    p.set_defaults(run=lambda c, a: log_enable_timestamps(c, a.enabled))
