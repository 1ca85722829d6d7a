/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hello_nvme: the smallest complete program on Pollux's NVMe driver. It attaches one
 * controller, writes "Hello world!" to LBA 0 of its first namespace, reads it back and
 * prints it.
 *
 *   hello_nvme -r 'trtype:tcp adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 subnqn:NQN'
 *   hello_nvme -r 'trtype:pcie traddr:0000:00:04.0'     (or no -r: the first PCIe one)
 *
 * The driver never blocks on I/O and never uses interrupts: commands are submitted with a
 * callback, and the program polls the queue pair until the callback has run. That is the
 * whole model; everything below is one instance of it.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "pollux/env.h"
#include "pollux/nvme.h"

struct hello {
	struct plx_nvme_ctrlr *ctrlr; /* the first controller attached */
	bool done;		      /* set by the completion callback */
	bool failed;
};

/* probe_cb: called for every controller found; true attaches it. We want just one. */
static bool probe_cb(void *ctx, const struct plx_nvme_trid *trid, struct plx_nvme_ctrlr_opts *opts)
{
	struct hello *h = ctx;

	printf("Probing %s %s\n", plx_nvme_trtype_str(trid->trtype), trid->traddr);
	return h->ctrlr == NULL;
}

/* attach_cb: the controller is initialised (Identify done, namespaces known): keep it. */
static void attach_cb(void *ctx, const struct plx_nvme_trid *trid, struct plx_nvme_ctrlr *ctrlr,
		      const struct plx_nvme_ctrlr_opts *opts)
{
	struct hello *h = ctx;

	printf("Attached to %s %s\n", plx_nvme_trtype_str(trid->trtype), trid->traddr);
	if (h->ctrlr == NULL) {
		h->ctrlr = ctrlr;
	} else {
		plx_nvme_detach(ctrlr);
	}
}

/* The completion callback runs inside plx_nvme_qpair_process_completions, on our thread. */
static void io_done(void *arg, const struct plx_nvme_cpl *cpl)
{
	struct hello *h = arg;

	if (plx_nvme_cpl_is_error(cpl)) {
		fprintf(stderr, "I/O failed: %s\n", plx_nvme_status_string(&cpl->status));
		h->failed = true;
	}
	h->done = true;
}

/* Poll until the one outstanding command completes. Real programs do other work here. */
static int wait_io(struct hello *h, struct plx_nvme_qpair *qpair)
{
	while (!h->done) {
		if (plx_nvme_qpair_process_completions(qpair, 0) < 0) {
			/* The queue pair failed; the library still completes the command. */
			h->failed = h->failed || !h->done;
			break;
		}
	}
	h->done = false;
	return h->failed ? -1 : 0;
}

static int hello_world(struct hello *h, struct plx_nvme_ns *ns)
{
	uint32_t sector = plx_nvme_ns_get_sector_size(ns);
	struct plx_nvme_qpair *qpair;
	char *buf;
	int rc = -1;

	/*
	 * An I/O queue pair belongs to the thread that allocates it: only this thread submits
	 * on it and polls it, which is why the I/O path needs no locks.
	 */
	qpair = plx_nvme_ctrlr_alloc_io_qpair(h->ctrlr, NULL);
	if (qpair == NULL) {
		fprintf(stderr, "cannot allocate an I/O queue pair\n");
		return -1;
	}
	/* Device-visible memory: PCIe devices DMA straight into it. One sector is enough. */
	buf = plx_dma_zmalloc(sector, 4096);
	if (buf == NULL) {
		fprintf(stderr, "cannot allocate a %u-byte buffer\n", sector);
		goto out;
	}
	snprintf(buf, sector, "%s", "Hello world!\n");

	/* Submission only queues the command; it goes out when we poll. */
	if (plx_nvme_ns_cmd_write(ns, qpair, buf, 0, 1, io_done, h, 0) != 0 ||
	    wait_io(h, qpair) != 0) {
		fprintf(stderr, "write failed\n");
		goto out;
	}
	/* Clear the buffer so what we print can only have come from the device. */
	memset(buf, 0, sector);
	if (plx_nvme_ns_cmd_read(ns, qpair, buf, 0, 1, io_done, h, 0) != 0 ||
	    wait_io(h, qpair) != 0) {
		fprintf(stderr, "read failed\n");
		goto out;
	}
	printf("%s", buf);
	rc = 0;
out:
	plx_dma_free(buf);
	plx_nvme_ctrlr_free_io_qpair(qpair);
	return rc;
}

int main(int argc, char **argv)
{
	struct plx_nvme_trid trid = {.trtype = PLX_NVME_TRTYPE_PCIE, .trstring = "PCIe"};
	struct hello h = {0};
	char err[PLX_NVME_ERR_LEN];
	uint32_t nsid;
	int c, rc;

	while ((c = getopt(argc, argv, "r:h")) != -1) {
		if (c != 'r' || plx_nvme_trid_parse(&trid, optarg, err) != 0) {
			fprintf(stderr, "usage: %s [-r TRID]\n%s%s", argv[0], c == 'r' ? err : "",
				c == 'r' ? "\n" : "");
			return c == 'h' ? 0 : 1;
		}
	}
	plx_env_init(NULL);

	/* Find controllers at trid (all PCIe ones by default) and initialise the one we pick. */
	rc = plx_nvme_probe(&trid, &h, probe_cb, attach_cb);
	if (rc < 0 || h.ctrlr == NULL) {
		fprintf(stderr, "no NVMe controller attached at %s\n", trid.traddr);
		return 1;
	}

	/* Namespaces are numbered from 1; the driver lists the active ones. */
	nsid = plx_nvme_ctrlr_get_first_active_ns(h.ctrlr);
	if (nsid == 0) {
		fprintf(stderr, "the controller has no active namespace\n");
		rc = -1;
	} else {
		printf("Using namespace %u\n", nsid);
		rc = hello_world(&h, plx_nvme_ctrlr_get_ns(h.ctrlr, nsid));
	}

	/* Detach shuts the controller down cleanly (fabrics: disconnects). */
	plx_nvme_detach(h.ctrlr);
	return rc == 0 ? 0 : 1;
}
