# SPDX-License-Identifier: BSD-3-Clause
"""bdev modules' methods (the layer's own are in bdev_core.py). One section per module, each
with its functions and an add_parsers_<module>(sub) registering its rpc.py sub-commands."""

import argparse


# ---- null ----

def bdev_null_create(client, num_blocks, block_size, name, uuid=None, physical_block_size=None,
                     md_size=None, dif_type=None, dif_is_head_of_md=None, dif_pi_format=None):
    params = {'name': name, 'num_blocks': num_blocks, 'block_size': block_size}
    for k, v in (('uuid', uuid), ('physical_block_size', physical_block_size),
                 ('md_size', md_size), ('dif_type', dif_type),
                 ('dif_is_head_of_md', dif_is_head_of_md), ('dif_pi_format', dif_pi_format)):
        if v is not None:
            params[k] = v
    return client.call('bdev_null_create', params)


def bdev_null_delete(client, name):
    return client.call('bdev_null_delete', {'name': name})


def bdev_null_resize(client, name, new_size):
    return client.call('bdev_null_resize', {'name': name, 'new_size': new_size})


def _mib_to_blocks(total_size_mib, block_size):
    # As SPDK's rpc.py: the size is in MiB (a float), converted to blocks on the client side.
    return int(total_size_mib * 1024 * 1024) // block_size if block_size > 0 else 0


def add_parsers_null(sub):
    p = sub.add_parser('bdev_null_create', help='Create a null bdev (no data movement)')
    p.add_argument('name', help='name of the bdev')
    p.add_argument('total_size', type=float, help='size of the bdev in MiB')
    p.add_argument('block_size', type=int, help='block size in bytes')
    p.add_argument('-u', '--uuid', help='UUID of the bdev')
    p.add_argument('-p', '--physical-block-size', type=int, help='physical block size in bytes')
    p.add_argument('-m', '--md-size', type=int, help='metadata size (only 0 is supported)')
    p.add_argument('-t', '--dif-type', type=int, help='protection information type (only 0)')
    p.add_argument('-d', '--dif-is-head-of-md', action='store_true', default=None,
                   help='protection information is at the head of the metadata')
    p.add_argument('--dif-pi-format', type=int, help='protection information format')
    p.set_defaults(run=lambda c, a: bdev_null_create(
        c, _mib_to_blocks(a.total_size, a.block_size), a.block_size, a.name, uuid=a.uuid,
        physical_block_size=a.physical_block_size, md_size=a.md_size, dif_type=a.dif_type,
        dif_is_head_of_md=a.dif_is_head_of_md, dif_pi_format=a.dif_pi_format))

    p = sub.add_parser('bdev_null_delete', help='Delete a null bdev')
    p.add_argument('name', help='name of the null bdev')
    p.set_defaults(run=lambda c, a: bdev_null_delete(c, a.name))

    p = sub.add_parser('bdev_null_resize', help='Grow a null bdev')
    p.add_argument('name', help='name of the null bdev')
    p.add_argument('new_size', type=int, help='new size in MiB (null bdevs only grow)')
    p.set_defaults(run=lambda c, a: bdev_null_resize(c, a.name, a.new_size))

# ---- end null ----

# ---- malloc ----

def bdev_malloc_create(client, num_blocks, block_size, name=None, uuid=None,
                       optimal_io_boundary=None, physical_block_size=None, md_size=None,
                       md_interleave=None, dif_type=None, dif_is_head_of_md=None,
                       dif_pi_format=None, numa_id=None):
    params = {'num_blocks': num_blocks, 'block_size': block_size}
    for k, v in (('name', name), ('uuid', uuid), ('optimal_io_boundary', optimal_io_boundary),
                 ('physical_block_size', physical_block_size), ('md_size', md_size),
                 ('md_interleave', md_interleave), ('dif_type', dif_type),
                 ('dif_is_head_of_md', dif_is_head_of_md), ('dif_pi_format', dif_pi_format),
                 ('numa_id', numa_id)):
        if v is not None:
            params[k] = v
    return client.call('bdev_malloc_create', params)


def bdev_malloc_delete(client, name):
    return client.call('bdev_malloc_delete', {'name': name})


def add_parsers_malloc(sub):
    p = sub.add_parser('bdev_malloc_create', help='Create a malloc bdev (a RAM disk)')
    p.add_argument('total_size', type=float, help='size of the bdev in MiB')
    p.add_argument('block_size', type=int, help='block size in bytes')
    p.add_argument('-b', '--name', help='name of the bdev (default: MallocN)')
    p.add_argument('-u', '--uuid', help='UUID of the bdev')
    p.add_argument('-o', '--optimal-io-boundary', type=int,
                   help='split I/O at this boundary, in blocks')
    p.add_argument('-p', '--physical-block-size', type=int, help='physical block size in bytes')
    p.add_argument('-m', '--md-size', type=int, help='metadata size (only 0 is supported)')
    p.add_argument('-i', '--md-interleave', action='store_true', default=None,
                   help='interleave the metadata with the data')
    p.add_argument('-t', '--dif-type', type=int, help='protection information type (only 0)')
    p.add_argument('-d', '--dif-is-head-of-md', action='store_true', default=None,
                   help='protection information is at the head of the metadata')
    p.add_argument('-f', '--dif-pi-format', type=int, help='protection information format')
    p.add_argument('-n', '--numa-id', type=int, help='NUMA node for the memory (-1: any)')
    p.set_defaults(run=lambda c, a: bdev_malloc_create(
        c, _mib_to_blocks(a.total_size, a.block_size), a.block_size, name=a.name, uuid=a.uuid,
        optimal_io_boundary=a.optimal_io_boundary, physical_block_size=a.physical_block_size,
        md_size=a.md_size, md_interleave=a.md_interleave, dif_type=a.dif_type,
        dif_is_head_of_md=a.dif_is_head_of_md, dif_pi_format=a.dif_pi_format,
        numa_id=a.numa_id))

    p = sub.add_parser('bdev_malloc_delete', help='Delete a malloc bdev')
    p.add_argument('name', help='name of the malloc bdev')
    p.set_defaults(run=lambda c, a: bdev_malloc_delete(c, a.name))

# ---- end malloc ----

# ---- delay ----

def bdev_delay_create(client, base_bdev_name, name, avg_read_latency, p99_read_latency,
                      avg_write_latency, p99_write_latency, uuid=None):
    params = {'base_bdev_name': base_bdev_name, 'name': name,
              'avg_read_latency': avg_read_latency, 'p99_read_latency': p99_read_latency,
              'avg_write_latency': avg_write_latency, 'p99_write_latency': p99_write_latency}
    if uuid is not None:
        params['uuid'] = uuid
    return client.call('bdev_delay_create', params)


def bdev_delay_delete(client, name):
    return client.call('bdev_delay_delete', {'name': name})


def bdev_delay_update_latency(client, delay_bdev_name, latency_type, latency_us):
    return client.call('bdev_delay_update_latency', {
        'delay_bdev_name': delay_bdev_name, 'latency_type': latency_type,
        'latency_us': latency_us})


def add_parsers_delay(sub):
    p = sub.add_parser('bdev_delay_create',
                       help='Create a delay bdev adding latency (in microseconds) to a base')
    p.add_argument('-b', '--base-bdev-name', required=True, help='name of the base bdev')
    p.add_argument('-d', '--name', required=True, help='name of the delay bdev')
    p.add_argument('-u', '--uuid', help='UUID of the delay bdev')
    p.add_argument('-r', '--avg-read-latency', type=int, required=True,
                   help='average read latency (us)')
    p.add_argument('-t', '--nine-nine-read-latency', type=int, required=True,
                   help='p99 read latency (us)')
    p.add_argument('-w', '--avg-write-latency', type=int, required=True,
                   help='average write latency (us)')
    p.add_argument('-n', '--nine-nine-write-latency', type=int, required=True,
                   help='p99 write latency (us)')
    p.set_defaults(run=lambda c, a: bdev_delay_create(
        c, a.base_bdev_name, a.name, a.avg_read_latency, a.nine_nine_read_latency,
        a.avg_write_latency, a.nine_nine_write_latency, uuid=a.uuid))

    p = sub.add_parser('bdev_delay_delete', help='Delete a delay bdev')
    p.add_argument('name', help='name of the delay bdev')
    p.set_defaults(run=lambda c, a: bdev_delay_delete(c, a.name))

    p = sub.add_parser('bdev_delay_update_latency', help='Change one latency of a delay bdev')
    p.add_argument('delay_bdev_name', help='name of the delay bdev')
    p.add_argument('latency_type', help='one of avg_read, p99_read, avg_write, p99_write')
    p.add_argument('latency_us', type=int, help='new latency in microseconds')
    p.set_defaults(run=lambda c, a: bdev_delay_update_latency(
        c, a.delay_bdev_name, a.latency_type, a.latency_us))

# ---- end delay ----

# ---- error ----

def bdev_error_create(client, base_name, uuid=None):
    params = {'base_name': base_name}
    if uuid is not None:
        params['uuid'] = uuid
    return client.call('bdev_error_create', params)


def bdev_error_delete(client, name):
    return client.call('bdev_error_delete', {'name': name})


def bdev_error_inject_error(client, name, io_type, error_type, num=None, queue_depth=None,
                            corrupt_offset=None, corrupt_value=None, nvme_sct=None,
                            nvme_sc=None):
    params = {'name': name, 'io_type': io_type, 'error_type': error_type}
    for k, v in (('num', num), ('queue_depth', queue_depth), ('corrupt_offset', corrupt_offset),
                 ('corrupt_value', corrupt_value), ('nvme_sct', nvme_sct), ('nvme_sc', nvme_sc)):
        if v is not None:
            params[k] = v
    return client.call('bdev_error_inject_error', params)


def bdev_error_resume_pending(client, name):
    return client.call('bdev_error_resume_pending', {'name': name})


def add_parsers_error(sub):
    p = sub.add_parser('bdev_error_create', help='Create an error-injection bdev EE_<base>')
    p.add_argument('base_name', help='name of the base bdev')
    p.add_argument('-u', '--uuid', help='UUID of the error bdev')
    p.set_defaults(run=lambda c, a: bdev_error_create(c, a.base_name, uuid=a.uuid))

    p = sub.add_parser('bdev_error_delete', help='Delete an error bdev')
    p.add_argument('name', help='name of the error bdev')
    p.set_defaults(run=lambda c, a: bdev_error_delete(c, a.name))

    p = sub.add_parser('bdev_error_inject_error', help='Inject errors into an error bdev')
    p.add_argument('name', help='name of the error bdev')
    p.add_argument('io_type', help='one of read, write, unmap, flush, all, clear')
    p.add_argument('error_type', help='one of failure, pending, corrupt_data, nomem')
    p.add_argument('-n', '--num', type=int, default=1,
                   help='number of I/Os to hit (default 1; 0 disables)')
    p.add_argument('-q', '--queue-depth', type=int,
                   help='hit only once this many I/Os are outstanding')
    p.add_argument('-o', '--corrupt-offset', type=int, help='byte offset to corrupt')
    p.add_argument('-v', '--corrupt-value', type=int, help='value XORed in (1-255)')
    p.add_argument('--nvme-sct', type=int, help='NVMe status code type (nvme_failure)')
    p.add_argument('--nvme-sc', type=int, help='NVMe status code (nvme_failure)')
    p.set_defaults(run=lambda c, a: bdev_error_inject_error(
        c, a.name, a.io_type, a.error_type, num=a.num, queue_depth=a.queue_depth,
        corrupt_offset=a.corrupt_offset, corrupt_value=a.corrupt_value, nvme_sct=a.nvme_sct,
        nvme_sc=a.nvme_sc))

    p = sub.add_parser('bdev_error_resume_pending', help='Send held I/O of an error bdev down')
    p.add_argument('name', help='name of the error bdev')
    p.set_defaults(run=lambda c, a: bdev_error_resume_pending(c, a.name))

# ---- end error ----

# ---- aio ----

def bdev_aio_create(client, filename, name, block_size=None, readonly=None, fallocate=None,
                    uuid=None, nowait=None):
    params = {'name': name, 'filename': filename}
    for k, v in (('block_size', block_size), ('readonly', readonly), ('fallocate', fallocate),
                 ('uuid', uuid), ('nowait', nowait)):
        if v is not None:
            params[k] = v
    return client.call('bdev_aio_create', params)


def bdev_aio_rescan(client, name):
    return client.call('bdev_aio_rescan', {'name': name})


def bdev_aio_delete(client, name):
    return client.call('bdev_aio_delete', {'name': name})


def add_parsers_aio(sub):
    p = sub.add_parser('bdev_aio_create', help='Create a bdev on a file or block device (libaio)')
    p.add_argument('filename', help='path to the file or block device')
    p.add_argument('name', help='name of the bdev')
    p.add_argument('block_size', type=int, nargs='?', default=None,
                   help='block size in bytes (default: the device\'s, 512 for files)')
    p.add_argument('-r', '--readonly', action='store_true', default=None,
                   help='open the file read-only')
    p.add_argument('--fallocate', action='store_true', default=None,
                   help='support unmap and write_zeroes with fallocate() (synchronous)')
    p.add_argument('-u', '--uuid', help='UUID of the bdev')
    p.add_argument('--nowait', action='store_true', default=None,
                   help='submit with RWF_NOWAIT (block devices only)')
    p.set_defaults(run=lambda c, a: bdev_aio_create(
        c, a.filename, a.name, block_size=a.block_size, readonly=a.readonly,
        fallocate=a.fallocate, uuid=a.uuid, nowait=a.nowait))

    p = sub.add_parser('bdev_aio_rescan', help='Re-read the size of an aio bdev\'s file')
    p.add_argument('name', help='name of the aio bdev')
    p.set_defaults(run=lambda c, a: bdev_aio_rescan(c, a.name))

    p = sub.add_parser('bdev_aio_delete', help='Delete an aio bdev')
    p.add_argument('name', help='name of the aio bdev')
    p.set_defaults(run=lambda c, a: bdev_aio_delete(c, a.name))

# ---- end aio ----

# ---- uring ----

def bdev_uring_create(client, filename, name, block_size=None, uuid=None):
    params = {'name': name, 'filename': filename}
    for k, v in (('block_size', block_size), ('uuid', uuid)):
        if v is not None:
            params[k] = v
    return client.call('bdev_uring_create', params)


def bdev_uring_rescan(client, name):
    return client.call('bdev_uring_rescan', {'name': name})


def bdev_uring_delete(client, name):
    return client.call('bdev_uring_delete', {'name': name})


def add_parsers_uring(sub):
    p = sub.add_parser('bdev_uring_create',
                       help='Create a bdev on a file or block device (io_uring)')
    p.add_argument('filename', help='path to the file or block device')
    p.add_argument('name', help='name of the bdev')
    p.add_argument('block_size', type=int, nargs='?', default=None,
                   help='block size in bytes (default: the device\'s, 512 for files)')
    p.add_argument('-u', '--uuid', help='UUID of the bdev')
    p.set_defaults(run=lambda c, a: bdev_uring_create(c, a.filename, a.name,
                                                      block_size=a.block_size, uuid=a.uuid))

    p = sub.add_parser('bdev_uring_rescan', help='Re-read the size of a uring bdev\'s file')
    p.add_argument('name', help='name of the uring bdev')
    p.set_defaults(run=lambda c, a: bdev_uring_rescan(c, a.name))

    p = sub.add_parser('bdev_uring_delete', help='Delete a uring bdev')
    p.add_argument('name', help='name of the uring bdev')
    p.set_defaults(run=lambda c, a: bdev_uring_delete(c, a.name))

# ---- end uring ----

# ---- passthru ----

def bdev_passthru_create(client, base_bdev_name, name, uuid=None):
    params = {'base_bdev_name': base_bdev_name, 'name': name}
    if uuid is not None:
        params['uuid'] = uuid
    return client.call('bdev_passthru_create', params)


def bdev_passthru_delete(client, name):
    return client.call('bdev_passthru_delete', {'name': name})


def add_parsers_passthru(sub):
    p = sub.add_parser('bdev_passthru_create', help='Create a passthru bdev on a base bdev')
    p.add_argument('-b', '--base-bdev-name', required=True, help='name of the base bdev')
    p.add_argument('-p', '--name', required=True, help='name of the passthru bdev')
    p.add_argument('-u', '--uuid', help='UUID of the passthru bdev')
    p.set_defaults(run=lambda c, a: bdev_passthru_create(c, a.base_bdev_name, a.name,
                                                         uuid=a.uuid))

    p = sub.add_parser('bdev_passthru_delete', help='Delete a passthru bdev')
    p.add_argument('name', help='name of the passthru bdev')
    p.set_defaults(run=lambda c, a: bdev_passthru_delete(c, a.name))

# ---- end passthru ----

# ---- split ----

def bdev_split_create(client, base_bdev, split_count, split_size_mb=None):
    params = {'base_bdev': base_bdev, 'split_count': split_count}
    if split_size_mb is not None:
        params['split_size_mb'] = split_size_mb
    return client.call('bdev_split_create', params)


def bdev_split_delete(client, base_bdev):
    return client.call('bdev_split_delete', {'base_bdev': base_bdev})


def add_parsers_split(sub):
    p = sub.add_parser('bdev_split_create',
                       help='Split a bdev into equal parts <base>p0 .. p<N-1>')
    p.add_argument('base_bdev', help='name of the base bdev')
    p.add_argument('split_count', type=int, help='number of parts')
    p.add_argument('-s', '--split-size-mb', type=int,
                   help='size of each part in MiB (default: the base divided equally)')
    p.set_defaults(run=lambda c, a: bdev_split_create(c, a.base_bdev, a.split_count,
                                                      split_size_mb=a.split_size_mb))

    p = sub.add_parser('bdev_split_delete', help='Delete every part of a split base bdev')
    p.add_argument('base_bdev', help='name of the base bdev')
    p.set_defaults(run=lambda c, a: bdev_split_delete(c, a.base_bdev))

# ---- end split ----

# ---- nvme ----

def _set_given(params, pairs):
    for k, v in pairs:
        if v is not None:
            params[k] = v
    return params


def _multipath_opts(policy=None, selector=None, min_io=None):
    mp = _set_given({}, (('policy', policy), ('selector', selector), ('min_io', min_io)))
    return mp or None


def bdev_nvme_set_options(client, **kw):
    """Every keyword is a parameter of bdev_nvme_set_options (None: not sent, so it keeps its
    current value); policy/selector/min_io are grouped into multipath_opts."""
    mp = _multipath_opts(kw.pop('policy', None), kw.pop('selector', None), kw.pop('min_io', None))
    params = _set_given({}, kw.items())
    if mp is not None:
        params['multipath_opts'] = mp
    return client.call('bdev_nvme_set_options', params)


def bdev_nvme_set_hotplug(client, enable, period_us=None):
    return client.call('bdev_nvme_set_hotplug',
                       _set_given({'enable': enable}, (('period_us', period_us),)))


def bdev_nvme_attach_controller(client, name, trtype, traddr, **kw):
    """Returns the names of the bdevs created. Keywords as the method's parameters; policy,
    selector and min_io go into multipath_opts."""
    mp = _multipath_opts(kw.pop('policy', None), kw.pop('selector', None), kw.pop('min_io', None))
    params = _set_given({'name': name, 'trtype': trtype, 'traddr': traddr}, kw.items())
    if mp is not None:
        params['multipath_opts'] = mp
    return client.call('bdev_nvme_attach_controller', params)


def bdev_nvme_detach_controller(client, name, trtype=None, traddr=None, adrfam=None,
                                trsvcid=None, subnqn=None, hostaddr=None, hostsvcid=None):
    return client.call('bdev_nvme_detach_controller', _set_given({'name': name}, (
        ('trtype', trtype), ('traddr', traddr), ('adrfam', adrfam), ('trsvcid', trsvcid),
        ('subnqn', subnqn), ('hostaddr', hostaddr), ('hostsvcid', hostsvcid))))


def bdev_nvme_get_controllers(client, name=None):
    return client.call('bdev_nvme_get_controllers', _set_given({}, (('name', name),)))


def bdev_nvme_get_io_paths(client, name=None):
    return client.call('bdev_nvme_get_io_paths', _set_given({}, (('name', name),)))


def bdev_nvme_set_multipath_policy(client, name, policy, selector=None, rr_min_io=None):
    return client.call('bdev_nvme_set_multipath_policy', _set_given(
        {'name': name, 'policy': policy}, (('selector', selector), ('rr_min_io', rr_min_io))))


def bdev_nvme_reset_controller(client, name, cntlid=None):
    return client.call('bdev_nvme_reset_controller',
                       _set_given({'name': name}, (('cntlid', cntlid),)))


def _comma_list(text):
    return [s for s in text.split(',') if s]


def _print_names(names):
    # As SPDK's rpc.py: the bdev names on one line, so scripts can capture them.
    print(' '.join(names))


# bdev_nvme_set_options flags: (flags, dest, type or action). Absent flags send nothing.
_SET_OPTIONS_FLAGS = (
    (('-a', '--action-on-timeout'), 'action_on_timeout', 'timeout action: none, reset, abort'),
    (('-t', '--timeout-us'), 'timeout_us', int),
    (('--timeout-admin-us',), 'timeout_admin_us', int),
    (('-k', '--keep-alive-timeout-ms'), 'keep_alive_timeout_ms', int),
    (('--arbitration-burst',), 'arbitration_burst', int),
    (('--low-priority-weight',), 'low_priority_weight', int),
    (('--medium-priority-weight',), 'medium_priority_weight', int),
    (('--high-priority-weight',), 'high_priority_weight', int),
    (('-p', '--nvme-adminq-poll-period-us'), 'nvme_adminq_poll_period_us', int),
    (('-i', '--nvme-ioq-poll-period-us'), 'nvme_ioq_poll_period_us', int),
    (('-s', '--io-queue-requests'), 'io_queue_requests', int),
    (('-c', '--transport-retry-count'), 'transport_retry_count', int),
    (('-r', '--bdev-retry-count'), 'bdev_retry_count', int),
    (('-e', '--transport-ack-timeout'), 'transport_ack_timeout', int),
    (('-l', '--ctrlr-loss-timeout-sec'), 'ctrlr_loss_timeout_sec', int),
    (('-o', '--reconnect-delay-sec'), 'reconnect_delay_sec', int),
    (('-u', '--fast-io-fail-timeout-sec'), 'fast_io_fail_timeout_sec', int),
    (('--transport-tos',), 'transport_tos', int),
    (('-q', '--rdma-srq-size'), 'rdma_srq_size', int),
    (('--rdma-max-cq-size',), 'rdma_max_cq_size', int),
    (('--rdma-cm-event-timeout-ms',), 'rdma_cm_event_timeout_ms', int),
    (('--tcp-connect-timeout-ms',), 'tcp_connect_timeout_ms', int),
    (('--dhchap-digests',), 'dhchap_digests', _comma_list),
    (('--dhchap-dhgroups',), 'dhchap_dhgroups', _comma_list),
    (('--min-io',), 'min_io', int),
)
_SET_OPTIONS_SWITCHES = (
    (('-f', '--disable-auto-failback'), 'disable_auto_failback'),
    (('--generate-uuids',), 'generate_uuids'),
    (('-m', '--nvme-error-stat'), 'nvme_error_stat'),
    (('--io-path-stat',), 'io_path_stat'),
    (('--allow-accel-sequence',), 'allow_accel_sequence'),
    (('--enable-flush',), 'enable_flush'),
)
_SET_OPTIONS_DESTS = ([d for _, d, _ in _SET_OPTIONS_FLAGS] + [d for _, d in _SET_OPTIONS_SWITCHES]
                      + ['delay_cmd_submit', 'rdma_umr_per_io', 'policy', 'selector'])


def _add_set_options_parser(sub):
    p = sub.add_parser('bdev_nvme_set_options',
                       help='Set the nvme bdev module\'s global options (before any controller '
                       'is attached); omitted options keep their values')
    for flags, dest, kind in _SET_OPTIONS_FLAGS:
        if isinstance(kind, str):
            p.add_argument(*flags, dest=dest, choices=['none', 'reset', 'abort'], help=kind)
        else:
            p.add_argument(*flags, dest=dest, type=kind)
    for flags, dest in _SET_OPTIONS_SWITCHES:
        p.add_argument(*flags, dest=dest, action='store_true', default=None)
    p.add_argument('-d', '--disable-delay-cmd-submit', dest='delay_cmd_submit',
                   action='store_false', default=None,
                   help='submit each command at once (no doorbell/PDU batching)')
    p.add_argument('--rdma-umr-per-io', dest='rdma_umr_per_io', default=None,
                   action=argparse.BooleanOptionalAction, help='accepted, no effect (no RDMA)')
    p.add_argument('--policy', choices=['active_passive', 'active_active'],
                   help='default multipath policy of new bdevs')
    p.add_argument('--selector', choices=['round_robin', 'queue_depth'],
                   help='default active_active path selector')
    p.set_defaults(run=lambda c, a: bdev_nvme_set_options(
        c, **{d: getattr(a, d) for d in _SET_OPTIONS_DESTS}))


# bdev_nvme_attach_controller options besides -b/-t/-a: (flags, dest, type or 'flag').
_ATTACH_FLAGS = (
    (('-f', '--adrfam'), 'adrfam', str),
    (('-s', '--trsvcid'), 'trsvcid', str),
    (('-p', '--priority'), 'priority', str),
    (('-n', '--subnqn'), 'subnqn', str),
    (('-q', '--hostnqn'), 'hostnqn', str),
    (('-i', '--hostaddr'), 'hostaddr', str),
    (('-c', '--hostsvcid'), 'hostsvcid', str),
    (('-r', '--prchk-reftag'), 'prchk_reftag', 'flag'),
    (('-g', '--prchk-guard'), 'prchk_guard', 'flag'),
    (('-e', '--hdgst'), 'hdgst', 'flag'),
    (('-d', '--ddgst'), 'ddgst', 'flag'),
    (('--fabrics-timeout',), 'fabrics_connect_timeout_us', int),
    (('--num-io-queues',), 'num_io_queues', int),
    (('-l', '--ctrlr-loss-timeout-sec'), 'ctrlr_loss_timeout_sec', int),
    (('-o', '--reconnect-delay-sec'), 'reconnect_delay_sec', int),
    (('-u', '--fast-io-fail-timeout-sec'), 'fast_io_fail_timeout_sec', int),
    (('-k', '--psk'), 'psk', str),
    (('-m', '--max-bdevs'), 'max_bdevs', int),
    (('--dhchap-key',), 'dhchap_key', str),
    (('--dhchap-ctrlr-key',), 'dhchap_ctrlr_key', str),
    (('-U', '--allow-unrecognized-csi'), 'allow_unrecognized_csi', 'flag'),
    (('--min-io',), 'min_io', int),
)
_ATTACH_DESTS = [d for _, d, _ in _ATTACH_FLAGS] + ['multipath', 'policy', 'selector']


def _add_attach_parser(sub):
    p = sub.add_parser('bdev_nvme_attach_controller',
                       help='Connect an NVMe controller (TCP or PCIe) and create a bdev per '
                       'namespace; prints the bdev names')
    p.add_argument('-b', '--name', required=True,
                   help='name of the controller, prefix of its bdevs (Nvme0 -> Nvme0n1)')
    p.add_argument('-t', '--trtype', required=True, help='transport type: tcp or pcie')
    p.add_argument('-a', '--traddr', required=True,
                   help='target address: an IP address, or a PCI address (0000:00:04.0)')
    for flags, dest, kind in _ATTACH_FLAGS:
        if kind == 'flag':
            p.add_argument(*flags, dest=dest, action='store_true', default=None)
        else:
            p.add_argument(*flags, dest=dest, type=kind)
    p.add_argument('-x', '--multipath', choices=['disable', 'failover', 'multipath'],
                   help='what attaching an existing name does (default failover)')
    p.add_argument('--policy', choices=['active_passive', 'active_active'],
                   help='multipath policy of the new bdevs')
    p.add_argument('--selector', choices=['round_robin', 'queue_depth'],
                   help='active_active path selector of the new bdevs')

    def run(c, a):
        _print_names(bdev_nvme_attach_controller(c, a.name, a.trtype, a.traddr,
                                                 **{d: getattr(a, d) for d in _ATTACH_DESTS}))
    p.set_defaults(run=run)


def add_parsers_nvme(sub):
    _add_set_options_parser(sub)

    p = sub.add_parser('bdev_nvme_set_hotplug',
                       help='PCIe hotplug settings (remembered and saved; hotplug itself is not '
                       'implemented)')
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument('-e', '--enable', dest='enable', action='store_true', default=None,
                   help='enable hotplug')
    g.add_argument('-d', '--disable', dest='enable', action='store_false', help='disable hotplug')
    g.add_argument('--hotplug', dest='enable', action='store_true', help='same as --enable')
    g.add_argument('--no-hotplug', dest='enable', action='store_false', help='same as --disable')
    p.add_argument('-r', '--period-us', type=int,
                   help='poll period in microseconds (0: default, 100000)')
    p.set_defaults(run=lambda c, a: bdev_nvme_set_hotplug(c, a.enable, period_us=a.period_us))

    _add_attach_parser(sub)

    p = sub.add_parser('bdev_nvme_detach_controller',
                       help='Detach a controller and delete its bdevs, or only remove the path '
                       'matching the given transport ID')
    p.add_argument('name', help='name of the controller')
    p.add_argument('-t', '--trtype', help='transport type of the path: tcp or pcie')
    p.add_argument('-a', '--traddr', help='target address of the path')
    p.add_argument('-f', '--adrfam', help='address family of the path: ipv4 or ipv6')
    p.add_argument('-s', '--trsvcid', help='service id (port) of the path')
    p.add_argument('-n', '--subnqn', help='subsystem NQN of the path')
    p.add_argument('-i', '--hostaddr', help='host address (accepted, not used to match)')
    p.add_argument('-c', '--hostsvcid', help='host service id (accepted, not used to match)')
    p.set_defaults(run=lambda c, a: bdev_nvme_detach_controller(
        c, a.name, trtype=a.trtype, traddr=a.traddr, adrfam=a.adrfam, trsvcid=a.trsvcid,
        subnqn=a.subnqn, hostaddr=a.hostaddr, hostsvcid=a.hostsvcid))

    p = sub.add_parser('bdev_nvme_get_controllers',
                       help='List NVMe controllers (bdev controllers and their paths)')
    p.add_argument('-n', '--name', help='only this controller (Nvme0)')
    p.set_defaults(run=lambda c, a: bdev_nvme_get_controllers(c, name=a.name))

    p = sub.add_parser('bdev_nvme_get_io_paths', help='Show the I/O paths of nvme bdevs per thread')
    p.add_argument('-n', '--name', help='only this bdev (Nvme0n1)')
    p.set_defaults(run=lambda c, a: bdev_nvme_get_io_paths(c, name=a.name))

    p = sub.add_parser('bdev_nvme_set_multipath_policy',
                       help='Set the multipath policy (and selector) of an nvme bdev')
    p.add_argument('-b', '--name', required=True, help='name of the nvme bdev')
    p.add_argument('-p', '--policy', required=True, choices=['active_passive', 'active_active'],
                   help='multipath policy')
    p.add_argument('-s', '--selector', choices=['round_robin', 'queue_depth'],
                   help='path selector (active_active only; default round_robin)')
    p.add_argument('-r', '--rr-min-io', type=int,
                   help='I/Os sent on a path before round robin moves on (default 1)')
    p.set_defaults(run=lambda c, a: bdev_nvme_set_multipath_policy(
        c, a.name, a.policy, selector=a.selector, rr_min_io=a.rr_min_io))

    p = sub.add_parser('bdev_nvme_reset_controller',
                       help='Reset the controllers of a bdev controller (or the one with cntlid)')
    p.add_argument('name', help='name of the controller')
    p.add_argument('-c', '--cntlid', type=int, help='only the controller with this ID')
    p.set_defaults(run=lambda c, a: bdev_nvme_reset_controller(c, a.name, cntlid=a.cntlid))

# ---- end nvme ----


def add_parsers(sub):
    """Every bdev module's sub-commands."""
    for add in (add_parsers_null, add_parsers_malloc, add_parsers_delay, add_parsers_error,
                add_parsers_aio, add_parsers_uring, add_parsers_passthru, add_parsers_split,
                add_parsers_nvme):
        add(sub)
