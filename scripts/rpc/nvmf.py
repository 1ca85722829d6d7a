# SPDX-License-Identifier: BSD-3-Clause
"""nvmf_* methods: the NVMe-oF target (transports, subsystems, namespaces, listeners, hosts,
ANA states, discovery referrals and global settings).

Sub-command flags follow SPDK's rpc.py. Only the parameters the user gave are sent, so the
target's own defaults apply to everything else (e.g. its serial and model numbers)."""

DISCOVERY_NQN = 'nqn.2014-08.org.nvmexpress.discovery'


def _params(required=None, **optional):
    """required as given, plus every optional parameter that is not None."""
    params = dict(required or {})
    params.update({k: v for k, v in optional.items() if v is not None})
    return params or None  # no "params" member at all when there is nothing to send


def _address(trtype, traddr, adrfam=None, trsvcid=None):
    return _params({'trtype': trtype, 'traddr': traddr}, adrfam=adrfam, trsvcid=trsvcid)


def _nqn(nqn):
    # As SPDK's rpc.py: "discovery" is a shortcut for the discovery subsystem's NQN.
    return DISCOVERY_NQN if nqn == 'discovery' else nqn


def _csv(text):
    return [s for s in text.split(',') if s]


def _flag(value):
    """store_true flags: send True when given, nothing otherwise."""
    return True if value else None


# ---- global settings ----

def nvmf_set_config(client, admin_cmd_passthru=None, poll_groups_mask=None,
                    discovery_filter=None, discovery_filters=None, dhchap_digests=None,
                    dhchap_dhgroups=None, dup_host_policy=None):
    return client.call('nvmf_set_config', _params(
        admin_cmd_passthru=admin_cmd_passthru, poll_groups_mask=poll_groups_mask,
        discovery_filter=discovery_filter, discovery_filters=discovery_filters,
        dhchap_digests=dhchap_digests, dhchap_dhgroups=dhchap_dhgroups,
        dup_host_policy=dup_host_policy))


def nvmf_set_max_subsystems(client, max_subsystems):
    return client.call('nvmf_set_max_subsystems', {'max_subsystems': max_subsystems})


def nvmf_set_crdt(client, crdt1=None, crdt2=None, crdt3=None):
    return client.call('nvmf_set_crdt', _params(crdt1=crdt1, crdt2=crdt2, crdt3=crdt3))


# ---- transports ----

TRANSPORT_OPTIONS = (
    'tgt_name', 'max_queue_depth', 'max_io_qpairs_per_ctrlr', 'in_capsule_data_size',
    'max_io_size', 'io_unit_size', 'max_aq_depth', 'num_shared_buffers', 'buf_cache_size',
    'iobuf_small_cache_size', 'iobuf_large_cache_size', 'zcopy', 'num_cqe', 'max_srq_depth',
    'no_srq', 'c2h_success', 'dif_insert_or_strip', 'sock_priority', 'acceptor_backlog',
    'abort_timeout_sec', 'no_wr_batching', 'control_msg_num', 'disable_mappable_bar0',
    'disable_adaptive_irq', 'disable_shadow_doorbells', 'acceptor_poll_rate', 'ack_timeout',
    'data_wr_pool_size', 'disable_command_passthru', 'kas', 'min_kato')


def nvmf_create_transport(client, trtype, **options):
    unknown = set(options) - set(TRANSPORT_OPTIONS)
    if unknown:
        raise TypeError('unknown transport option(s): %s' % ', '.join(sorted(unknown)))
    return client.call('nvmf_create_transport', _params({'trtype': trtype}, **options))


def nvmf_get_transports(client, trtype=None, tgt_name=None):
    return client.call('nvmf_get_transports', _params(trtype=trtype, tgt_name=tgt_name))


# ---- subsystems ----

def nvmf_create_subsystem(client, nqn, serial_number=None, model_number=None,
                          allow_any_host=None, max_namespaces=None, ana_reporting=None,
                          min_cntlid=None, max_cntlid=None, tgt_name=None):
    return client.call('nvmf_create_subsystem', _params(
        {'nqn': nqn}, serial_number=serial_number, model_number=model_number,
        allow_any_host=allow_any_host, max_namespaces=max_namespaces,
        ana_reporting=ana_reporting, min_cntlid=min_cntlid, max_cntlid=max_cntlid,
        tgt_name=tgt_name))


def nvmf_delete_subsystem(client, nqn, tgt_name=None):
    return client.call('nvmf_delete_subsystem', _params({'nqn': nqn}, tgt_name=tgt_name))


def nvmf_get_subsystems(client, nqn=None, tgt_name=None):
    return client.call('nvmf_get_subsystems', _params(nqn=nqn, tgt_name=tgt_name))


# ---- listeners ----

def nvmf_subsystem_add_listener(client, nqn, trtype, traddr, adrfam=None, trsvcid=None,
                                ana_state=None, secure_channel=None, sock_impl=None,
                                tgt_name=None):
    return client.call('nvmf_subsystem_add_listener', _params(
        {'nqn': _nqn(nqn), 'listen_address': _address(trtype, traddr, adrfam, trsvcid)},
        ana_state=ana_state, secure_channel=secure_channel, sock_impl=sock_impl,
        tgt_name=tgt_name))


def nvmf_subsystem_remove_listener(client, nqn, trtype, traddr, adrfam=None, trsvcid=None,
                                   tgt_name=None):
    return client.call('nvmf_subsystem_remove_listener', _params(
        {'nqn': _nqn(nqn), 'listen_address': _address(trtype, traddr, adrfam, trsvcid)},
        tgt_name=tgt_name))


def nvmf_subsystem_get_listeners(client, nqn, tgt_name=None):
    return client.call('nvmf_subsystem_get_listeners', _params({'nqn': nqn},
                                                               tgt_name=tgt_name))


def nvmf_subsystem_listener_set_ana_state(client, nqn, ana_state, trtype, traddr, adrfam=None,
                                          trsvcid=None, anagrpid=None, tgt_name=None):
    return client.call('nvmf_subsystem_listener_set_ana_state', _params(
        {'nqn': nqn, 'ana_state': ana_state,
         'listen_address': _address(trtype, traddr, adrfam, trsvcid)},
        anagrpid=anagrpid, tgt_name=tgt_name))


# ---- namespaces ----

def nvmf_subsystem_add_ns(client, nqn, bdev_name, nsid=None, nguid=None, eui64=None, uuid=None,
                          anagrpid=None, ptpl_file=None, no_auto_visible=None, tgt_name=None):
    ns = _params({'bdev_name': bdev_name}, nsid=nsid, nguid=nguid, eui64=eui64, uuid=uuid,
                 anagrpid=anagrpid, ptpl_file=ptpl_file, no_auto_visible=no_auto_visible)
    return client.call('nvmf_subsystem_add_ns', _params({'nqn': nqn, 'namespace': ns},
                                                        tgt_name=tgt_name))


def nvmf_subsystem_remove_ns(client, nqn, nsid, tgt_name=None):
    return client.call('nvmf_subsystem_remove_ns', _params({'nqn': nqn, 'nsid': nsid},
                                                           tgt_name=tgt_name))


def nvmf_subsystem_set_ns_ana_group(client, nqn, nsid, anagrpid, tgt_name=None):
    return client.call('nvmf_subsystem_set_ns_ana_group', _params(
        {'nqn': nqn, 'nsid': nsid, 'anagrpid': anagrpid}, tgt_name=tgt_name))


# ---- hosts ----

def nvmf_subsystem_add_host(client, nqn, host, psk=None, dhchap_key=None,
                            dhchap_ctrlr_key=None, tgt_name=None):
    return client.call('nvmf_subsystem_add_host', _params(
        {'nqn': nqn, 'host': host}, psk=psk, dhchap_key=dhchap_key,
        dhchap_ctrlr_key=dhchap_ctrlr_key, tgt_name=tgt_name))


def nvmf_subsystem_remove_host(client, nqn, host, tgt_name=None):
    return client.call('nvmf_subsystem_remove_host', _params({'nqn': nqn, 'host': host},
                                                             tgt_name=tgt_name))


def nvmf_subsystem_allow_any_host(client, nqn, allow_any_host, tgt_name=None):
    return client.call('nvmf_subsystem_allow_any_host', _params(
        {'nqn': nqn, 'allow_any_host': allow_any_host}, tgt_name=tgt_name))


# ---- connections and statistics ----

def nvmf_subsystem_get_controllers(client, nqn, tgt_name=None):
    return client.call('nvmf_subsystem_get_controllers', _params({'nqn': nqn},
                                                                 tgt_name=tgt_name))


def nvmf_subsystem_get_qpairs(client, nqn, tgt_name=None):
    return client.call('nvmf_subsystem_get_qpairs', _params({'nqn': nqn}, tgt_name=tgt_name))


def nvmf_get_stats(client, tgt_name=None):
    return client.call('nvmf_get_stats', _params(tgt_name=tgt_name))


# ---- discovery referrals ----

def nvmf_discovery_add_referral(client, trtype, traddr, adrfam=None, trsvcid=None, subnqn=None,
                                secure_channel=None, tgt_name=None):
    return client.call('nvmf_discovery_add_referral', _params(
        {'address': _address(trtype, traddr, adrfam, trsvcid)},
        subnqn=_nqn(subnqn) if subnqn else None, secure_channel=secure_channel,
        tgt_name=tgt_name))


def nvmf_discovery_remove_referral(client, trtype, traddr, adrfam=None, trsvcid=None,
                                   subnqn=None, tgt_name=None):
    return client.call('nvmf_discovery_remove_referral', _params(
        {'address': _address(trtype, traddr, adrfam, trsvcid)},
        subnqn=_nqn(subnqn) if subnqn else None, tgt_name=tgt_name))


def nvmf_discovery_get_referrals(client, tgt_name=None):
    return client.call('nvmf_discovery_get_referrals', _params(tgt_name=tgt_name))


# ---- rpc.py sub-commands ----

def _tgt_name(p, flag='-t'):
    p.add_argument(flag, '--tgt-name', help='name of the parent NVMe-oF target (optional)')


def _address_args(p, required_svcid=False):
    p.add_argument('-t', '--trtype', required=True, help='transport type, e.g. tcp')
    p.add_argument('-a', '--traddr', required=True, help='transport address, e.g. an IP address')
    p.add_argument('-f', '--adrfam', help='address family: ipv4, ipv6, ib, fc, intra_host')
    p.add_argument('-s', '--trsvcid', required=required_svcid,
                   help='transport service id, e.g. a TCP port')


def _add_transport_parsers(sub):
    p = sub.add_parser('nvmf_create_transport', help='Create an NVMe-oF transport')
    p.add_argument('-t', '--trtype', required=True, help='transport type, e.g. TCP')
    p.add_argument('-g', '--tgt-name', help='name of the parent NVMe-oF target (optional)')
    p.add_argument('-q', '--max-queue-depth', type=int, help='max outstanding I/O per queue')
    p.add_argument('-m', '--max-io-qpairs-per-ctrlr', type=int,
                   help='max I/O queue pairs per controller')
    p.add_argument('-c', '--in-capsule-data-size', type=int, help='max in-capsule data size')
    p.add_argument('-i', '--max-io-size', type=int, help='max I/O size in bytes')
    p.add_argument('-u', '--io-unit-size', type=int, help='I/O unit size in bytes')
    p.add_argument('-a', '--max-aq-depth', type=int, help='max admin commands per admin queue')
    p.add_argument('-n', '--num-shared-buffers', type=int,
                   help='pooled data buffers of the transport')
    p.add_argument('-b', '--buf-cache-size', type=int,
                   help='shared buffers reserved for each poll group')
    p.add_argument('--iobuf-small-cache-size', type=int,
                   help='small iobuf buffers cached per poll group')
    p.add_argument('--iobuf-large-cache-size', type=int,
                   help='large iobuf buffers cached per poll group')
    p.add_argument('-z', '--zcopy', action='store_true', help='use zero-copy operations')
    p.add_argument('-d', '--num-cqe', type=int, help='CQ entries (RDMA only)')
    p.add_argument('-s', '--max-srq-depth', type=int, help='max I/O per SRQ (RDMA only)')
    p.add_argument('-r', '--no-srq', action='store_true', help='no shared receive queue (RDMA)')
    p.add_argument('-o', '--c2h-success', action='store_false', default=None,
                   help='disable the C2H success optimization (TCP)')
    p.add_argument('-f', '--dif-insert-or-strip', action='store_true',
                   help='enable DIF insert/strip (TCP)')
    p.add_argument('-y', '--sock-priority', type=int, help='socket priority (TCP)')
    p.add_argument('-l', '--acceptor-backlog', type=int, help='pending connections (RDMA)')
    p.add_argument('-x', '--abort-timeout-sec', type=int, help='abort execution timeout (s)')
    p.add_argument('-w', '--no-wr-batching', action='store_true', help='no WR batching (RDMA)')
    p.add_argument('-e', '--control-msg-num', type=int,
                   help='control messages per poll group (TCP)')
    p.add_argument('-M', '--disable-mappable-bar0', action='store_true', help='(VFIO-USER)')
    p.add_argument('-I', '--disable-adaptive-irq', action='store_true', help='(VFIO-USER)')
    p.add_argument('-S', '--disable-shadow-doorbells', action='store_true', help='(VFIO-USER)')
    p.add_argument('--acceptor-poll-rate', type=int, help='acceptor polling interval (µs)')
    p.add_argument('--ack-timeout', type=int, help='ACK timeout (ms)')
    p.add_argument('--data-wr-pool-size', type=int, help='data WR pool size (RDMA)')
    p.add_argument('--disable-command-passthru', action='store_true',
                   help='disallow command passthru')
    p.add_argument('--kas', type=int, help='keep alive support granularity (100 ms units)')
    p.add_argument('--min-kato', type=int, help='minimum keep alive timeout (ms)')

    def run(c, a):
        opts = {}
        for name in TRANSPORT_OPTIONS:
            v = getattr(a, name, None)
            if v is False and name != 'c2h_success':
                v = None  # an unset store_true flag
            opts[name] = v
        return nvmf_create_transport(c, a.trtype, **opts)
    p.set_defaults(run=run)

    p = sub.add_parser('nvmf_get_transports', help='List the NVMe-oF transports')
    p.add_argument('--trtype', help='only this transport type')
    _tgt_name(p)
    p.set_defaults(run=lambda c, a: nvmf_get_transports(c, a.trtype, a.tgt_name))


def _add_subsystem_parsers(sub):
    p = sub.add_parser('nvmf_create_subsystem', help='Create an NVMe-oF subsystem')
    p.add_argument('nqn', help='subsystem NQN')
    _tgt_name(p)
    p.add_argument('-s', '--serial-number', help='serial number (target default if omitted)')
    p.add_argument('-d', '--model-number', help='model number (target default if omitted)')
    p.add_argument('-a', '--allow-any-host', action='store_true',
                   help='allow any host to connect (no host allow-list)')
    p.add_argument('-m', '--max-namespaces', type=int, help='max namespaces')
    p.add_argument('-r', '--ana-reporting', action='store_true', help='enable ANA reporting')
    p.add_argument('-i', '--min_cntlid', '--min-cntlid', dest='min_cntlid', type=int,
                   help='minimum controller ID')
    p.add_argument('-I', '--max_cntlid', '--max-cntlid', dest='max_cntlid', type=int,
                   help='maximum controller ID')
    p.set_defaults(run=lambda c, a: nvmf_create_subsystem(
        c, a.nqn, serial_number=a.serial_number, model_number=a.model_number,
        allow_any_host=_flag(a.allow_any_host), max_namespaces=a.max_namespaces,
        ana_reporting=_flag(a.ana_reporting), min_cntlid=a.min_cntlid,
        max_cntlid=a.max_cntlid, tgt_name=a.tgt_name))

    p = sub.add_parser('nvmf_delete_subsystem', help='Delete an NVMe-oF subsystem')
    p.add_argument('subsystem_nqn', help='subsystem NQN')
    _tgt_name(p)
    p.set_defaults(run=lambda c, a: nvmf_delete_subsystem(c, a.subsystem_nqn, a.tgt_name))

    p = sub.add_parser('nvmf_get_subsystems', help='List NVMe-oF subsystems (or one)')
    p.add_argument('nqn', nargs='?', help='only this subsystem')
    _tgt_name(p)
    p.set_defaults(run=lambda c, a: nvmf_get_subsystems(c, a.nqn, a.tgt_name))


def _add_listener_parsers(sub):
    p = sub.add_parser('nvmf_subsystem_add_listener', help='Add a listener to a subsystem')
    p.add_argument('nqn', help="subsystem NQN ('discovery' for the discovery subsystem)")
    _address_args(p)
    p.add_argument('-p', '--tgt-name', help='name of the parent NVMe-oF target (optional)')
    p.add_argument('-k', '--secure-channel', action='store_true',
                   help='require a secure channel')
    p.add_argument('-n', '--ana-state', help='optimized, non_optimized or inaccessible')
    p.add_argument('-S', '--sock-impl', help='socket implementation, e.g. posix')
    p.set_defaults(run=lambda c, a: nvmf_subsystem_add_listener(
        c, a.nqn, a.trtype, a.traddr, a.adrfam, a.trsvcid, ana_state=a.ana_state,
        secure_channel=_flag(a.secure_channel), sock_impl=a.sock_impl, tgt_name=a.tgt_name))

    p = sub.add_parser('nvmf_subsystem_remove_listener',
                       help='Remove a listener from a subsystem')
    p.add_argument('nqn', help="subsystem NQN ('discovery' for the discovery subsystem)")
    _address_args(p)
    p.add_argument('-p', '--tgt-name', help='name of the parent NVMe-oF target (optional)')
    p.set_defaults(run=lambda c, a: nvmf_subsystem_remove_listener(
        c, a.nqn, a.trtype, a.traddr, a.adrfam, a.trsvcid, tgt_name=a.tgt_name))

    p = sub.add_parser('nvmf_subsystem_get_listeners', help='List the listeners of a subsystem')
    p.add_argument('nqn', help='subsystem NQN')
    _tgt_name(p)
    p.set_defaults(run=lambda c, a: nvmf_subsystem_get_listeners(c, a.nqn, a.tgt_name))

    p = sub.add_parser('nvmf_subsystem_listener_set_ana_state',
                       help='Set the ANA state of a listener of a subsystem')
    p.add_argument('nqn', help='subsystem NQN')
    p.add_argument('-n', '--ana-state', required=True,
                   help='optimized, non_optimized or inaccessible')
    _address_args(p)
    p.add_argument('-p', '--tgt-name', help='name of the parent NVMe-oF target (optional)')
    p.add_argument('-g', '--anagrpid', type=int, help='only this ANA group (default: all)')
    p.set_defaults(run=lambda c, a: nvmf_subsystem_listener_set_ana_state(
        c, a.nqn, a.ana_state, a.trtype, a.traddr, a.adrfam, a.trsvcid, anagrpid=a.anagrpid,
        tgt_name=a.tgt_name))


def _add_ns_parsers(sub):
    p = sub.add_parser('nvmf_subsystem_add_ns', help='Add a namespace to a subsystem')
    p.add_argument('nqn', help='subsystem NQN')
    p.add_argument('bdev_name', help='bdev backing the namespace')
    _tgt_name(p)
    p.add_argument('-p', '--ptpl-file', help='file persisting reservations (optional)')
    p.add_argument('-n', '--nsid', type=int, help='namespace ID (default: lowest free)')
    p.add_argument('-g', '--nguid', help='namespace globally unique identifier (hex)')
    p.add_argument('-e', '--eui64', help='namespace EUI-64 (hex)')
    p.add_argument('-u', '--uuid', help='namespace UUID')
    p.add_argument('-a', '--anagrpid', type=int, help='ANA group ID')
    p.add_argument('-i', '--no-auto-visible', action='store_true',
                   help='do not make the namespace visible to controllers automatically')
    p.set_defaults(run=lambda c, a: nvmf_subsystem_add_ns(
        c, a.nqn, a.bdev_name, nsid=a.nsid, nguid=a.nguid, eui64=a.eui64, uuid=a.uuid,
        anagrpid=a.anagrpid, ptpl_file=a.ptpl_file, no_auto_visible=_flag(a.no_auto_visible),
        tgt_name=a.tgt_name))

    p = sub.add_parser('nvmf_subsystem_remove_ns', help='Remove a namespace from a subsystem')
    p.add_argument('nqn', help='subsystem NQN')
    p.add_argument('nsid', type=int, help='namespace ID')
    _tgt_name(p)
    p.set_defaults(run=lambda c, a: nvmf_subsystem_remove_ns(c, a.nqn, a.nsid, a.tgt_name))

    p = sub.add_parser('nvmf_subsystem_set_ns_ana_group',
                       help='Change the ANA group of a namespace')
    p.add_argument('nqn', help='subsystem NQN')
    p.add_argument('nsid', type=int, help='namespace ID')
    p.add_argument('anagrpid', type=int, help='ANA group ID')
    _tgt_name(p)
    p.set_defaults(run=lambda c, a: nvmf_subsystem_set_ns_ana_group(
        c, a.nqn, a.nsid, a.anagrpid, a.tgt_name))


def _add_host_parsers(sub):
    p = sub.add_parser('nvmf_subsystem_add_host', help='Allow a host to connect to a subsystem')
    p.add_argument('nqn', help='subsystem NQN')
    p.add_argument('host', help='host NQN')
    _tgt_name(p)
    p.add_argument('--psk', help='PSK for TLS (optional)')
    p.add_argument('--dhchap-key', help='DH-HMAC-CHAP key name (optional)')
    p.add_argument('--dhchap-ctrlr-key', help='DH-HMAC-CHAP controller key name (optional)')
    p.set_defaults(run=lambda c, a: nvmf_subsystem_add_host(
        c, a.nqn, a.host, psk=a.psk, dhchap_key=a.dhchap_key,
        dhchap_ctrlr_key=a.dhchap_ctrlr_key, tgt_name=a.tgt_name))

    p = sub.add_parser('nvmf_subsystem_remove_host', help='Remove a host from a subsystem')
    p.add_argument('nqn', help='subsystem NQN')
    p.add_argument('host', help='host NQN')
    _tgt_name(p)
    p.set_defaults(run=lambda c, a: nvmf_subsystem_remove_host(c, a.nqn, a.host, a.tgt_name))

    p = sub.add_parser('nvmf_subsystem_allow_any_host',
                       help='Allow any host (-e) or only listed hosts (-d) to connect')
    p.add_argument('nqn', help='subsystem NQN')
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument('-e', '--enable', action='store_true', help='allow any host')
    mode.add_argument('-d', '--disable', action='store_true', help='allow listed hosts only')
    _tgt_name(p)
    p.set_defaults(run=lambda c, a: nvmf_subsystem_allow_any_host(
        c, a.nqn, not a.disable, a.tgt_name))


def _add_status_parsers(sub):
    for name, fn, what in (
            ('nvmf_subsystem_get_controllers', nvmf_subsystem_get_controllers, 'controllers'),
            ('nvmf_subsystem_get_qpairs', nvmf_subsystem_get_qpairs, 'queue pairs')):
        p = sub.add_parser(name, help='List the %s of a subsystem' % what)
        p.add_argument('nqn', help='subsystem NQN')
        _tgt_name(p)
        p.set_defaults(run=lambda c, a, fn=fn: fn(c, a.nqn, a.tgt_name))

    p = sub.add_parser('nvmf_get_stats', help='Statistics of the NVMe-oF poll groups')
    _tgt_name(p)
    p.set_defaults(run=lambda c, a: nvmf_get_stats(c, a.tgt_name))


def _add_referral_parsers(sub):
    p = sub.add_parser('nvmf_discovery_add_referral', help='Add a discovery referral')
    _address_args(p)
    p.add_argument('-p', '--tgt-name', help='name of the parent NVMe-oF target (optional)')
    p.add_argument('-k', '--secure-channel', action='store_true',
                   help='the referred service requires a secure channel')
    p.add_argument('-n', '--subnqn', help="subsystem NQN ('discovery' for the discovery NQN)")
    p.set_defaults(run=lambda c, a: nvmf_discovery_add_referral(
        c, a.trtype, a.traddr, a.adrfam, a.trsvcid, subnqn=a.subnqn,
        secure_channel=_flag(a.secure_channel), tgt_name=a.tgt_name))

    p = sub.add_parser('nvmf_discovery_remove_referral', help='Remove a discovery referral')
    _address_args(p)
    p.add_argument('-p', '--tgt-name', help='name of the parent NVMe-oF target (optional)')
    p.add_argument('-n', '--subnqn', help="subsystem NQN ('discovery' for the discovery NQN)")
    p.set_defaults(run=lambda c, a: nvmf_discovery_remove_referral(
        c, a.trtype, a.traddr, a.adrfam, a.trsvcid, subnqn=a.subnqn, tgt_name=a.tgt_name))

    p = sub.add_parser('nvmf_discovery_get_referrals', help='List the discovery referrals')
    _tgt_name(p)
    p.set_defaults(run=lambda c, a: nvmf_discovery_get_referrals(c, a.tgt_name))


ADMIN_PASSTHRU = ('identify_ctrlr', 'get_log_page', 'get_set_features', 'sanitize',
                  'vendor_specific')


def _set_config_run(c, a):
    cmds = list(a.passthru_admin_cmds or [])
    if a.passthru_identify_ctrlr:
        cmds.append('identify_ctrlr')
    if 'all' in cmds:
        cmds = list(ADMIN_PASSTHRU)
    return nvmf_set_config(
        c, admin_cmd_passthru={k: True for k in cmds} if cmds else None,
        poll_groups_mask=a.poll_groups_mask, discovery_filter=a.discovery_filter,
        discovery_filters=a.discovery_filters, dhchap_digests=a.dhchap_digests,
        dhchap_dhgroups=a.dhchap_dhgroups, dup_host_policy=a.dup_host_policy)


def _add_global_parsers(sub):
    p = sub.add_parser('nvmf_set_config', help='Set global NVMe-oF target settings')
    p.add_argument('-i', '--passthru-identify-ctrlr', action='store_true',
                   help='deprecated: same as -p identify_ctrlr')
    p.add_argument('-p', '--passthru-admin-cmds', type=_csv,
                   help='comma-separated admin commands to pass through: all, '
                   + ', '.join(ADMIN_PASSTHRU))
    p.add_argument('-m', '--poll-groups-mask', help='cpumask of the poll groups')
    p.add_argument('-d', '--discovery-filter',
                   help='deprecated: match_any or comma-separated transport,address,svcid')
    p.add_argument('--discovery-filters', type=_csv,
                   help='comma-separated discovery filters: transport, address, svcid')
    p.add_argument('--dhchap-digests', type=_csv, help='comma-separated DH-HMAC-CHAP digests')
    p.add_argument('--dhchap-dhgroups', type=_csv,
                   help='comma-separated DH-HMAC-CHAP DH groups')
    p.add_argument('--dup-host-policy', choices=('allow', 'restrict_per_listener'),
                   help='policy for a host connecting twice')
    p.set_defaults(run=_set_config_run)

    p = sub.add_parser('nvmf_set_max_subsystems', help='Set the max number of subsystems')
    p.add_argument('max_subsystems_pos', nargs='?', type=int, metavar='max_subsystems',
                   help='max number of subsystems (or -x)')
    p.add_argument('-x', '--max-subsystems', type=int, help='max number of subsystems')

    def run_max(c, a):
        n = a.max_subsystems if a.max_subsystems is not None else a.max_subsystems_pos
        if n is None:
            p.error('the max number of subsystems is required')
        return nvmf_set_max_subsystems(c, n)
    p.set_defaults(run=run_max)

    p = sub.add_parser('nvmf_set_crdt', help='Set the command retry delay times (100 ms units)')
    p.add_argument('-t1', '--crdt1', type=int, help='command retry delay time 1')
    p.add_argument('-t2', '--crdt2', type=int, help='command retry delay time 2')
    p.add_argument('-t3', '--crdt3', type=int, help='command retry delay time 3')
    p.set_defaults(run=lambda c, a: nvmf_set_crdt(c, a.crdt1, a.crdt2, a.crdt3))


def add_parsers(sub):
    _add_global_parsers(sub)
    _add_transport_parsers(sub)
    _add_subsystem_parsers(sub)
    _add_listener_parsers(sub)
    _add_ns_parsers(sub)
    _add_host_parsers(sub)
    _add_status_parsers(sub)
    _add_referral_parsers(sub)
