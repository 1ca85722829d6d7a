# SPDX-License-Identifier: BSD-3-Clause
"""framework_* methods: init control, subsystems and their config, reactors, scheduler."""


def framework_start_init(client):
    return client.call('framework_start_init')


def framework_wait_init(client):
    return client.call('framework_wait_init')


def framework_get_subsystems(client):
    return client.call('framework_get_subsystems')


def framework_get_config(client, name, with_batches=None):
    params = {'name': name}
    if with_batches:
        params['with_batches'] = True
    return client.call('framework_get_config', params)


def framework_get_reactors(client):
    return client.call('framework_get_reactors')


def framework_set_scheduler(client, name, period=None, load_limit=None, core_limit=None,
                            core_busy=None, mappings=None):
    params = {'name': name}
    optional = {'period': period, 'load_limit': load_limit, 'core_limit': core_limit,
                'core_busy': core_busy, 'mappings': mappings}
    params.update({k: v for k, v in optional.items() if v is not None})
    return client.call('framework_set_scheduler', params)


def framework_get_scheduler(client):
    return client.call('framework_get_scheduler')


def add_parsers(sub):
    p = sub.add_parser('framework_start_init', help='Start initialization deferred by --wait-for-rpc')
    p.set_defaults(run=lambda c, a: framework_start_init(c))

    p = sub.add_parser('framework_wait_init', help='Wait until initialization has completed')
    p.set_defaults(run=lambda c, a: framework_wait_init(c))

    p = sub.add_parser('framework_get_subsystems', help='List subsystems in init order')
    p.set_defaults(run=lambda c, a: framework_get_subsystems(c))

    p = sub.add_parser('framework_get_config', help="Get one subsystem's configuration")
    p.add_argument('name', help='subsystem name')
    p.add_argument('--with-batches', action='store_true', help='keep batch arrays')
    p.set_defaults(run=lambda c, a: framework_get_config(c, a.name, a.with_batches))

    p = sub.add_parser('framework_get_reactors', help='List reactors and their threads')
    p.set_defaults(run=lambda c, a: framework_get_reactors(c))

    p = sub.add_parser('framework_set_scheduler', help='Select the thread scheduler')
    p.add_argument('name', help='scheduler name (static)')
    p.add_argument('-p', '--period', type=int, help='scheduler period in microseconds')
    p.add_argument('--load-limit', type=int, help='thread load %% limit (dynamic)')
    p.add_argument('--core-limit', type=int, help='core load %% limit (dynamic)')
    p.add_argument('--core-busy', type=int, help='core busy %% limit (dynamic)')
    p.add_argument('--mappings', help='thread:core mappings (static)')
    p.set_defaults(run=lambda c, a: framework_set_scheduler(
        c, a.name, a.period, a.load_limit, a.core_limit, a.core_busy, a.mappings))

    p = sub.add_parser('framework_get_scheduler', help='Get the scheduler name and period')
    p.set_defaults(run=lambda c, a: framework_get_scheduler(c))
