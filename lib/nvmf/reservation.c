/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe reservations of the NVMe-oF target (NVM Express Base Specification 2.0, "Reservations",
 * and the Reservation Register/Acquire/Release/Report commands).
 *
 * Three layers:
 * - the rules (nvmf_resv_*): pure functions on the state of record of one namespace, run on
 *   the app thread;
 * - the conflict check of the I/O path (nvmf_ns_reservation_allows), which reads only the
 *   poll group's snapshot (struct nvmf_pg_ns);
 * - the command path: a poll group parses the command and sends it to the app thread, which
 *   applies the rule, persists the state (PTPL), tells controllers of affected hosts, refreshes
 *   every poll group's snapshot and only then lets the request complete on its own thread, so
 *   a host that saw a successful Acquire never has a later command checked against old state.
 *
 * Reservation commands are rare, so the app thread runs them one at a time (a queue): while
 * one command's snapshot refresh is in flight nobody changes a reservation, which is what
 * lets poll groups read ns->resv in nvmf_ns_reservation_snapshot.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pollux/log.h"
#include "nvmf_internal.h"

#define RESV_STATUS(sct, sc) ((uint16_t)(((sct) << 8) | (sc)))
#define RESV_SC(sc)	     RESV_STATUS(PLX_NVME_SCT_GENERIC, sc)
#define RESV_CONFLICT	     RESV_SC(PLX_NVME_SC_RESERVATION_CONFLICT)
#define RESV_INVALID_FIELD   RESV_SC(PLX_NVME_SC_INVALID_FIELD)
#define RESV_INTERNAL_ERROR  RESV_SC(PLX_NVME_SC_INTERNAL_DEVICE_ERROR)
#define RESV_REGISTER_LEN    16 /* crkey, nrkey */
#define RESV_ACQUIRE_LEN     16 /* crkey, prkey */
#define RESV_RELEASE_LEN     8	/* crkey */
#define RESV_CDW10_ACTION(c) ((uint8_t)((c)&7u))
#define RESV_CDW10_IEKEY(c)  (((c) >> 3) & 1u)
#define RESV_CDW10_RTYPE(c)  ((uint8_t)(((c) >> 8) & 0xffu))
#define RESV_CDW10_CPTPL(c)  ((uint8_t)((c) >> 30))
#define RESV_REPORT_EDS	     1u /* cdw11 bit 0 */
#define RESV_CNTLID_DYNAMIC  0xffff
#define RESV_RCSTS_HOLDER    1u

/* ---- the rules ---- */

static bool resv_type_valid(uint8_t rtype)
{
	return rtype >= PLX_NVME_RESV_WRITE_EXCLUSIVE &&
	       rtype <= PLX_NVME_RESV_EXCLUSIVE_ACCESS_ALL_REGS;
}

/* In the all-registrants types every registrant is a holder; there is no single holder. */
static bool resv_type_all_regs(uint8_t rtype)
{
	return rtype == PLX_NVME_RESV_WRITE_EXCLUSIVE_ALL_REGS ||
	       rtype == PLX_NVME_RESV_EXCLUSIVE_ACCESS_ALL_REGS;
}

/* A zeroed struct nvmf_reservation (calloc'd namespace) is a valid empty state. */
static void resv_init_once(struct nvmf_reservation *resv)
{
	if (resv->registrants.tqh_last == NULL) {
		TAILQ_INIT(&resv->registrants);
	}
}

static struct nvmf_reservation_registrant *resv_find(const struct nvmf_reservation *resv,
						     const uint8_t hostid[16])
{
	struct nvmf_reservation_registrant *reg;

	TAILQ_FOREACH(reg, &resv->registrants, link)
	{
		if (memcmp(reg->hostid, hostid, 16) == 0) {
			return reg;
		}
	}
	return NULL;
}

static bool resv_holds(const struct nvmf_reservation *resv,
		       const struct nvmf_reservation_registrant *reg)
{
	return resv->rtype != PLX_NVME_RESV_NONE &&
	       (resv->holder == reg || resv_type_all_regs(resv->rtype));
}

static void resv_drop_reservation(struct nvmf_reservation *resv)
{
	resv->rtype = PLX_NVME_RESV_NONE;
	resv->holder = NULL;
	resv->crkey = 0;
}

static void resv_set_holder(struct nvmf_reservation *resv, struct nvmf_reservation_registrant *reg,
			    uint8_t rtype)
{
	resv->rtype = (enum plx_nvme_reservation_type)rtype;
	if (resv_type_all_regs(rtype)) {
		resv->holder = NULL;
		resv->crkey = 0;
	} else {
		resv->holder = reg;
		resv->crkey = reg->rkey;
	}
}

/*
 * Remove one registration. The reservation leaves with its holder, or for the all-registrants
 * types with the last registrant.
 */
static void resv_remove(struct nvmf_reservation *resv, struct nvmf_reservation_registrant *reg)
{
	TAILQ_REMOVE(&resv->registrants, reg, link);
	resv->num_registrants--;
	if (resv->holder == reg ||
	    (resv_type_all_regs(resv->rtype) && resv->num_registrants == 0)) {
		resv_drop_reservation(resv);
	}
	free(reg);
}

/* Remove every registrant but keep, recording who lost the registration. */
static void resv_remove_others(struct nvmf_reservation *resv,
			       const struct nvmf_reservation_registrant *keep, uint8_t out[][16],
			       uint32_t *num_out)
{
	struct nvmf_reservation_registrant *reg, *next;

	for (reg = TAILQ_FIRST(&resv->registrants); reg != NULL; reg = next) {
		next = TAILQ_NEXT(reg, link);
		if (reg == keep) {
			continue;
		}
		if (*num_out < NVMF_MAX_RESERVATION_REGISTRANTS) {
			memcpy(out[(*num_out)++], reg->hostid, 16);
		}
		resv_remove(resv, reg);
	}
}

/* Remove every registrant with key (but keep), recording who lost it. Returns how many. */
static uint32_t resv_remove_key(struct nvmf_reservation *resv, uint64_t key,
				const struct nvmf_reservation_registrant *keep, uint8_t out[][16],
				uint32_t *num_out)
{
	struct nvmf_reservation_registrant *reg, *next;
	uint32_t removed = 0;

	for (reg = TAILQ_FIRST(&resv->registrants); reg != NULL; reg = next) {
		next = TAILQ_NEXT(reg, link);
		if (reg == keep || reg->rkey != key) {
			continue;
		}
		if (*num_out < NVMF_MAX_RESERVATION_REGISTRANTS) {
			memcpy(out[(*num_out)++], reg->hostid, 16);
		}
		resv_remove(resv, reg);
		removed++;
	}
	return removed;
}

void nvmf_resv_clear_all(struct nvmf_reservation *resv)
{
	struct nvmf_reservation_registrant *reg;

	resv_init_once(resv);
	while ((reg = TAILQ_FIRST(&resv->registrants)) != NULL) {
		TAILQ_REMOVE(&resv->registrants, reg, link);
		free(reg);
	}
	resv->num_registrants = 0;
	resv_drop_reservation(resv);
}

uint16_t nvmf_resv_register(struct nvmf_reservation *resv, const uint8_t hostid[16], uint8_t action,
			    bool iekey, uint64_t crkey, uint64_t nrkey)
{
	struct nvmf_reservation_registrant *reg;

	resv_init_once(resv);
	reg = resv_find(resv, hostid);
	switch (action) {
	case PLX_NVME_RESV_REGISTER_KEY:
		if (reg != NULL) {
			/* Registering again is fine with the same key only. */
			if (reg->rkey != nrkey) {
				return RESV_CONFLICT;
			}
			break;
		}
		if (resv->num_registrants >= NVMF_MAX_RESERVATION_REGISTRANTS) {
			/* The spec has no status for a full table; this target's limit. */
			return RESV_INVALID_FIELD;
		}
		reg = calloc(1, sizeof(*reg));
		if (reg == NULL) {
			return RESV_INTERNAL_ERROR;
		}
		memcpy(reg->hostid, hostid, 16);
		reg->rkey = nrkey;
		TAILQ_INSERT_TAIL(&resv->registrants, reg, link);
		resv->num_registrants++;
		break;
	case PLX_NVME_RESV_UNREGISTER_KEY:
		if (reg == NULL || (!iekey && reg->rkey != crkey)) {
			return RESV_CONFLICT;
		}
		resv_remove(resv, reg);
		break;
	case PLX_NVME_RESV_REPLACE_KEY:
		if (reg == NULL || (!iekey && reg->rkey != crkey)) {
			return RESV_CONFLICT;
		}
		reg->rkey = nrkey;
		if (resv->holder == reg) {
			resv->crkey = nrkey;
		}
		break;
	default:
		return RESV_INVALID_FIELD;
	}
	/* Every successful Register moves the generation, even one that changed nothing. */
	resv->generation++;
	return 0;
}

static uint16_t resv_acquire(struct nvmf_reservation *resv, struct nvmf_reservation_registrant *reg,
			     uint8_t rtype)
{
	if (resv->rtype == PLX_NVME_RESV_NONE) {
		resv_set_holder(resv, reg, rtype);
		return 0;
	}
	/* Acquiring what one holds is a no-op; a different type needs Preempt. */
	if (resv_holds(resv, reg) && resv->rtype == rtype) {
		return 0;
	}
	return RESV_CONFLICT;
}

static uint16_t resv_preempt(struct nvmf_reservation *resv, struct nvmf_reservation_registrant *reg,
			     uint8_t rtype, uint64_t prkey, uint8_t out[][16], uint32_t *num_out)
{
	if (resv->rtype == PLX_NVME_RESV_NONE) {
		return resv_remove_key(resv, prkey, NULL, out, num_out) > 0 ? 0 : RESV_CONFLICT;
	}
	if (resv_type_all_regs(resv->rtype)) {
		if (prkey == 0) {
			/* Everyone else goes; the issuer holds a new reservation of rtype. */
			resv_remove_others(resv, reg, out, num_out);
			resv_set_holder(resv, reg, rtype);
			return 0;
		}
		return resv_remove_key(resv, prkey, NULL, out, num_out) > 0 ? 0 : RESV_CONFLICT;
	}
	if (prkey == resv->crkey) {
		/* The holder is preempted (possibly the issuer itself, to change the type). */
		resv_remove_key(resv, prkey, reg, out, num_out);
		resv_set_holder(resv, reg, rtype);
		return 0;
	}
	if (prkey == 0) {
		return RESV_INVALID_FIELD;
	}
	return resv_remove_key(resv, prkey, NULL, out, num_out) > 0 ? 0 : RESV_CONFLICT;
}

uint16_t nvmf_resv_acquire(struct nvmf_reservation *resv, const uint8_t hostid[16], uint8_t action,
			   uint8_t rtype, bool iekey, uint64_t crkey, uint64_t prkey,
			   uint8_t preempted_hostids[][16], uint32_t *num_preempted)
{
	struct nvmf_reservation_registrant *reg;
	uint16_t status;

	*num_preempted = 0;
	resv_init_once(resv);
	/* IEKEY is not defined for Acquire (since revision 1.3): reject it, as for bad types. */
	if (iekey || !resv_type_valid(rtype) || action > PLX_NVME_RESV_PREEMPT_ABORT) {
		return RESV_INVALID_FIELD;
	}
	reg = resv_find(resv, hostid);
	if (reg == NULL || reg->rkey != crkey) {
		return RESV_CONFLICT;
	}
	if (action == PLX_NVME_RESV_ACQUIRE) {
		return resv_acquire(resv, reg, rtype);
	}
	/* Preempt and Abort: this target completes commands quickly, nothing left to abort. */
	status = resv_preempt(resv, reg, rtype, prkey, preempted_hostids, num_preempted);
	if (status == 0) {
		resv->generation++;
	}
	return status;
}

uint16_t nvmf_resv_release(struct nvmf_reservation *resv, const uint8_t hostid[16], uint8_t action,
			   uint8_t rtype, bool iekey, uint64_t crkey, bool *released)
{
	struct nvmf_reservation_registrant *reg;

	*released = false;
	resv_init_once(resv);
	if (iekey || action > PLX_NVME_RESV_CLEAR) {
		return RESV_INVALID_FIELD;
	}
	reg = resv_find(resv, hostid);
	if (reg == NULL || reg->rkey != crkey) {
		return RESV_CONFLICT;
	}
	if (action == PLX_NVME_RESV_CLEAR) {
		*released = resv->rtype != PLX_NVME_RESV_NONE;
		nvmf_resv_clear_all(resv);
		resv->generation++;
		return 0;
	}
	/* A registrant that holds nothing releases nothing, successfully. */
	if (!resv_holds(resv, reg)) {
		return 0;
	}
	if (rtype != resv->rtype) {
		return RESV_INVALID_FIELD;
	}
	resv_drop_reservation(resv);
	*released = true;
	return 0;
}

/* ---- the I/O path's check ---- */

enum resv_access {
	RESV_ACCESS_NONE,
	RESV_ACCESS_READ,
	RESV_ACCESS_WRITE,
};

/*
 * The NVM command set's read and write command groups. Flush belongs to neither in the 2.0
 * specifications, so a reservation never blocks it; Reservation commands are checked by their
 * own rules.
 */
static inline enum resv_access resv_opc_access(uint8_t opc)
{
	switch (opc) {
	case PLX_NVME_OPC_READ:
	case PLX_NVME_OPC_COMPARE:
	case PLX_NVME_OPC_VERIFY:
		return RESV_ACCESS_READ;
	case PLX_NVME_OPC_WRITE:
	case PLX_NVME_OPC_WRITE_UNCORRECTABLE:
	case PLX_NVME_OPC_WRITE_ZEROES:
	case PLX_NVME_OPC_DATASET_MANAGEMENT:
	case PLX_NVME_OPC_COPY:
		return RESV_ACCESS_WRITE;
	default:
		return RESV_ACCESS_NONE;
	}
}

static bool resv_pg_is_registrant(const struct nvmf_pg_ns *pg_ns, const uint8_t hostid[16])
{
	for (uint32_t i = 0; i < pg_ns->num_registrants; i++) {
		if (memcmp(pg_ns->reg_hostid[i], hostid, 16) == 0) {
			return true;
		}
	}
	return false;
}

bool nvmf_ns_reservation_allows(const struct nvmf_pg_ns *pg_ns, const uint8_t hostid[16],
				uint8_t opc)
{
	enum resv_access access;

	if (plx_likely(pg_ns->rtype == PLX_NVME_RESV_NONE)) {
		return true;
	}
	access = resv_opc_access(opc);
	if (access == RESV_ACCESS_NONE) {
		return true;
	}
	if (pg_ns->has_holder && memcmp(pg_ns->holder_hostid, hostid, 16) == 0) {
		return true;
	}
	switch (pg_ns->rtype) {
	case PLX_NVME_RESV_WRITE_EXCLUSIVE:
		return access == RESV_ACCESS_READ;
	case PLX_NVME_RESV_EXCLUSIVE_ACCESS:
		return false;
	case PLX_NVME_RESV_WRITE_EXCLUSIVE_REG_ONLY:
	case PLX_NVME_RESV_WRITE_EXCLUSIVE_ALL_REGS:
		return access == RESV_ACCESS_READ || resv_pg_is_registrant(pg_ns, hostid);
	case PLX_NVME_RESV_EXCLUSIVE_ACCESS_REG_ONLY:
	case PLX_NVME_RESV_EXCLUSIVE_ACCESS_ALL_REGS:
		return resv_pg_is_registrant(pg_ns, hostid);
	default:
		return true;
	}
}

void nvmf_ns_reservation_snapshot(const struct nvmf_ns *ns, struct nvmf_pg_ns *pg_ns)
{
	const struct nvmf_reservation *resv = &ns->resv;
	const struct nvmf_reservation_registrant *reg;
	uint32_t n = 0;

	pg_ns->rtype = resv->rtype;
	pg_ns->has_holder = resv->holder != NULL;
	if (resv->holder != NULL) {
		memcpy(pg_ns->holder_hostid, resv->holder->hostid, 16);
	} else {
		memset(pg_ns->holder_hostid, 0, 16);
	}
	TAILQ_FOREACH(reg, &resv->registrants, link)
	{
		if (n == NVMF_MAX_RESERVATION_REGISTRANTS) {
			break;
		}
		memcpy(pg_ns->reg_hostid[n++], reg->hostid, 16);
	}
	pg_ns->num_registrants = n;
}

/* ---- Reservation Report data ---- */

static size_t resv_report_size(const struct nvmf_reservation *resv, bool eds)
{
	if (eds) {
		return sizeof(struct plx_nvme_reservation_status_extended_data) +
		       resv->num_registrants *
			   sizeof(struct plx_nvme_registered_ctrlr_extended_data);
	}
	return sizeof(struct plx_nvme_reservation_status_data) +
	       resv->num_registrants * sizeof(struct plx_nvme_registered_ctrlr_data);
}

/* Fill buf (resv_report_size bytes, zeroed) with the report. */
static void resv_build_report(const struct nvmf_reservation *resv, bool eds, uint8_t *buf)
{
	struct plx_nvme_reservation_status_data hdr = {0};
	const struct nvmf_reservation_registrant *reg;
	size_t off;

	hdr.gen = resv->generation;
	hdr.rtype = (uint8_t)resv->rtype;
	hdr.regctl = (uint16_t)resv->num_registrants;
	hdr.ptpls = resv->ptpl_activated ? 1 : 0;
	memcpy(buf, &hdr, sizeof(hdr));
	off = eds ? sizeof(struct plx_nvme_reservation_status_extended_data) : sizeof(hdr);

	/* Controllers are dynamic: one entry per registered host, cntlid 0xffff. */
	TAILQ_FOREACH(reg, &resv->registrants, link)
	{
		uint8_t rcsts = resv_holds(resv, reg) ? RESV_RCSTS_HOLDER : 0;

		if (eds) {
			struct plx_nvme_registered_ctrlr_extended_data e = {0};

			e.cntlid = RESV_CNTLID_DYNAMIC;
			e.rcsts = rcsts;
			e.rkey = reg->rkey;
			memcpy(e.hostid, reg->hostid, 16);
			memcpy(buf + off, &e, sizeof(e));
			off += sizeof(e);
		} else {
			struct plx_nvme_registered_ctrlr_data e = {0};

			e.cntlid = RESV_CNTLID_DYNAMIC;
			e.rcsts = rcsts;
			e.rkey = reg->rkey;
			memcpy(&e.hostid, reg->hostid, sizeof(e.hostid));
			memcpy(buf + off, &e, sizeof(e));
			off += sizeof(e);
		}
	}
}

/* ---- Persist Through Power Loss ---- */

static void resv_hostid_fmt(const uint8_t hostid[16], char *buf, size_t len)
{
	struct plx_uuid uuid;

	memcpy(uuid.u, hostid, 16);
	plx_uuid_fmt_lower(buf, len, &uuid);
}

static json_t *resv_ptpl_to_json(const struct nvmf_ns *ns)
{
	const struct nvmf_reservation *resv = &ns->resv;
	const struct nvmf_reservation_registrant *reg;
	char str[PLX_UUID_STRING_LEN] = "";
	json_t *root, *regs;

	root = json_object();
	regs = json_array();
	if (root == NULL || regs == NULL) {
		json_decref(root);
		json_decref(regs);
		return NULL;
	}
	json_object_set_new(root, "ptpl", json_boolean(resv->ptpl_activated));
	json_object_set_new(root, "rtype", json_integer(resv->rtype));
	/* Keys are 64-bit: stored as the signed JSON integer of the same bits. */
	json_object_set_new(root, "crkey", json_integer((json_int_t)resv->crkey));
	if (ns->bdev != NULL) {
		plx_uuid_fmt_lower(str, sizeof(str), plx_bdev_get_uuid(ns->bdev));
	}
	json_object_set_new(root, "bdev_uuid", json_string(str));
	str[0] = '\0';
	if (resv->holder != NULL) {
		resv_hostid_fmt(resv->holder->hostid, str, sizeof(str));
	}
	json_object_set_new(root, "holder_uuid", json_string(str));
	TAILQ_FOREACH(reg, &resv->registrants, link)
	{
		json_t *r = json_object();

		resv_hostid_fmt(reg->hostid, str, sizeof(str));
		json_object_set_new(r, "rkey", json_integer((json_int_t)reg->rkey));
		json_object_set_new(r, "host_uuid", json_string(str));
		json_array_append_new(regs, r);
	}
	json_object_set_new(root, "registrants", regs);
	return root;
}

static int resv_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Make the rename itself durable. Best effort: not every file system lets a directory sync. */
static void resv_sync_dir(const char *path)
{
	char dir[sizeof(((struct nvmf_ns *)0)->ptpl_file)];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir) {
		slash[1] = '\0';
	} else if (slash != NULL) {
		*slash = '\0';
	} else {
		snprintf(dir, sizeof(dir), ".");
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* Write the state of record to ns->ptpl_file atomically: temp file, fsync, rename. */
static int resv_ptpl_save(const struct nvmf_ns *ns)
{
	char tmp[sizeof(ns->ptpl_file) + 8];
	json_t *root;
	char *text;
	int fd, rc;

	root = resv_ptpl_to_json(ns);
	text = root != NULL ? json_dumps(root, JSON_INDENT(2)) : NULL;
	json_decref(root);
	if (text == NULL) {
		PLX_ERRLOG("nsid %u: out of memory building the PTPL state\n", ns->nsid);
		return -ENOMEM;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", ns->ptpl_file);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		PLX_ERRLOG("cannot create %s: %s\n", tmp, strerror(-rc));
		free(text);
		return rc;
	}
	rc = resv_write_all(fd, text, strlen(text));
	if (rc == 0 && fsync(fd) != 0) {
		rc = -errno;
	}
	close(fd);
	free(text);
	if (rc == 0 && rename(tmp, ns->ptpl_file) != 0) {
		rc = -errno;
	}
	if (rc != 0) {
		PLX_ERRLOG("cannot write the PTPL file %s: %s\n", ns->ptpl_file, strerror(-rc));
		unlink(tmp);
		return rc;
	}
	resv_sync_dir(ns->ptpl_file);
	return 0;
}

static bool resv_json_hostid(json_t *val, uint8_t hostid[16])
{
	struct plx_uuid uuid;

	if (!json_is_string(val) || plx_uuid_parse(&uuid, json_string_value(val)) != 0) {
		return false;
	}
	memcpy(hostid, uuid.u, 16);
	return true;
}

static int resv_ptpl_registrants(struct nvmf_ns *ns, json_t *regs)
{
	struct nvmf_reservation *resv = &ns->resv;
	struct nvmf_reservation_registrant *reg;
	uint8_t hostid[16];
	json_t *r;
	size_t i;

	if (!json_is_array(regs) || json_array_size(regs) > NVMF_MAX_RESERVATION_REGISTRANTS) {
		PLX_ERRLOG("%s: \"registrants\" is not an array of at most %u entries\n",
			   ns->ptpl_file, NVMF_MAX_RESERVATION_REGISTRANTS);
		return -EINVAL;
	}
	json_array_foreach(regs, i, r)
	{
		json_t *rkey = json_object_get(r, "rkey");

		if (!json_is_integer(rkey) ||
		    !resv_json_hostid(json_object_get(r, "host_uuid"), hostid) ||
		    resv_find(resv, hostid) != NULL) {
			PLX_ERRLOG("%s: registrant %zu is malformed or repeated\n", ns->ptpl_file,
				   i);
			return -EINVAL;
		}
		reg = calloc(1, sizeof(*reg));
		if (reg == NULL) {
			PLX_ERRLOG("%s: out of memory\n", ns->ptpl_file);
			return -ENOMEM;
		}
		memcpy(reg->hostid, hostid, 16);
		reg->rkey = (uint64_t)json_integer_value(rkey);
		TAILQ_INSERT_TAIL(&resv->registrants, reg, link);
		resv->num_registrants++;
	}
	return 0;
}

/* The reservation itself, checked against the registrants already restored. */
static int resv_ptpl_reservation(struct nvmf_ns *ns, json_t *root)
{
	struct nvmf_reservation *resv = &ns->resv;
	json_t *rtype = json_object_get(root, "rtype"), *crkey = json_object_get(root, "crkey");
	json_t *holder = json_object_get(root, "holder_uuid");
	struct nvmf_reservation_registrant *reg = NULL;
	uint8_t hostid[16];
	json_int_t type;

	if (!json_is_integer(rtype) || !json_is_integer(crkey)) {
		PLX_ERRLOG("%s: \"rtype\" and \"crkey\" must be integers\n", ns->ptpl_file);
		return -EINVAL;
	}
	type = json_integer_value(rtype);
	if (holder != NULL && !(json_is_string(holder) && json_string_length(holder) == 0)) {
		if (!resv_json_hostid(holder, hostid) || (reg = resv_find(resv, hostid)) == NULL) {
			PLX_ERRLOG("%s: \"holder_uuid\" is not a registrant\n", ns->ptpl_file);
			return -EINVAL;
		}
	}
	if (type < PLX_NVME_RESV_NONE || type > PLX_NVME_RESV_EXCLUSIVE_ACCESS_ALL_REGS) {
		PLX_ERRLOG("%s: bad reservation type %lld\n", ns->ptpl_file, (long long)type);
		return -EINVAL;
	}
	if (type == PLX_NVME_RESV_NONE) {
		if (reg != NULL) {
			PLX_ERRLOG("%s: a holder without a reservation\n", ns->ptpl_file);
			return -EINVAL;
		}
		return 0;
	}
	if (resv_type_all_regs((uint8_t)type)
		? (reg != NULL || resv->num_registrants == 0)
		: (reg == NULL || reg->rkey != (uint64_t)json_integer_value(crkey))) {
		PLX_ERRLOG("%s: holder and reservation type %lld do not agree\n", ns->ptpl_file,
			   (long long)type);
		return -EINVAL;
	}
	resv_set_holder(resv, reg, (uint8_t)type);
	return 0;
}

static int resv_ptpl_parse(struct nvmf_ns *ns, json_t *root)
{
	json_t *ptpl = json_object_get(root, "ptpl"), *bdev_uuid;
	struct plx_uuid uuid;
	int rc;

	if (!json_is_object(root) || !json_is_boolean(ptpl)) {
		PLX_ERRLOG("%s: not a PTPL state (no \"ptpl\" boolean)\n", ns->ptpl_file);
		return -EINVAL;
	}
	/* Without PTPL the reservation is cleared at power on: nothing to restore. */
	if (!json_is_true(ptpl)) {
		return 0;
	}
	bdev_uuid = json_object_get(root, "bdev_uuid");
	if (!json_is_string(bdev_uuid)) {
		PLX_ERRLOG("%s: \"bdev_uuid\" missing\n", ns->ptpl_file);
		return -EINVAL;
	}
	if (ns->bdev != NULL && json_string_length(bdev_uuid) > 0 &&
	    (plx_uuid_parse(&uuid, json_string_value(bdev_uuid)) != 0 ||
	     plx_uuid_compare(&uuid, plx_bdev_get_uuid(ns->bdev)) != 0)) {
		PLX_ERRLOG("%s: belongs to bdev %s, not to this namespace's bdev\n", ns->ptpl_file,
			   json_string_value(bdev_uuid));
		return -EINVAL;
	}
	rc = resv_ptpl_registrants(ns, json_object_get(root, "registrants"));
	if (rc == 0) {
		rc = resv_ptpl_reservation(ns, root);
	}
	if (rc == 0) {
		ns->resv.ptpl_activated = true;
	}
	return rc;
}

int nvmf_ns_reservation_load(struct nvmf_ns *ns)
{
	json_error_t err;
	struct stat st;
	json_t *root;
	int rc;

	resv_init_once(&ns->resv);
	nvmf_resv_clear_all(&ns->resv);
	ns->resv.ptpl_activated = false;
	if (ns->ptpl_file[0] == '\0') {
		return 0;
	}
	if (stat(ns->ptpl_file, &st) != 0 && errno == ENOENT) {
		return 0; /* first use: the file appears with the first change */
	}
	root = json_load_file(ns->ptpl_file, 0, &err);
	if (root == NULL) {
		PLX_ERRLOG("%s: cannot parse the PTPL state: %s (line %d)\n", ns->ptpl_file,
			   err.text, err.line);
		return -EINVAL;
	}
	rc = resv_ptpl_parse(ns, root);
	json_decref(root);
	if (rc != 0) {
		nvmf_resv_clear_all(&ns->resv);
		ns->resv.ptpl_activated = false;
	}
	return rc;
}

bool nvmf_ns_reservation_ptpl_activated(const struct nvmf_ns *ns)
{
	return __atomic_load_n(&ns->resv.ptpl_activated, __ATOMIC_RELAXED);
}

int nvmf_ns_reservation_set_ptpl(struct nvmf_ns *ns, bool ptpl)
{
	bool old = ns->resv.ptpl_activated;
	int rc;

	if (ptpl && ns->ptpl_file[0] == '\0') {
		return -ENOTSUP;
	}
	__atomic_store_n(&ns->resv.ptpl_activated, ptpl, __ATOMIC_RELAXED);
	if (ns->ptpl_file[0] == '\0' || old == ptpl) {
		return 0;
	}
	rc = resv_ptpl_save(ns);
	if (rc != 0) {
		__atomic_store_n(&ns->resv.ptpl_activated, old, __ATOMIC_RELAXED);
	}
	return rc;
}

/* ---- the command path ---- */

struct resv_ctx {
	struct nvmf_request *req;
	struct plx_thread *req_thread;
	struct nvmf_subsystem *subsys;
	struct nvmf_ns *ns; /* looked up on the app thread */
	uint32_t nsid;
	uint8_t hostid[16];
	uint8_t opc;
	uint8_t action;
	uint8_t rtype;
	uint8_t cptpl;
	bool iekey;
	bool eds;
	uint64_t crkey;
	uint64_t key2;	   /* nrkey (register) or prkey (acquire) */
	size_t report_len; /* bytes the host can take */
	uint16_t status;
	uint8_t *report;
	size_t report_size;
	struct nvmf_pg_ns before; /* the state before the command, for notices and change */
	uint32_t gen_before;
	bool ptpl_before;
	uint8_t preempted[NVMF_MAX_RESERVATION_REGISTRANTS][16];
	uint32_t num_preempted;
	bool released;
	TAILQ_ENTRY(resv_ctx) link;
};

/* App thread: commands waiting for the one being applied. */
static TAILQ_HEAD(, resv_ctx) g_resv_queue = TAILQ_HEAD_INITIALIZER(g_resv_queue);
static bool g_resv_busy;
static bool g_resv_kicking;

static void resv_app_kick(void);

static uint16_t resv_parse_data(struct nvmf_request *req, uint64_t *keys, size_t len)
{
	uint64_t buf[2] = {0, 0};

	if (req->length < len || nvmf_request_copy_from_iov(req, buf, len) != len) {
		return RESV_INVALID_FIELD;
	}
	keys[0] = buf[0];
	keys[1] = buf[1];
	return 0;
}

/* Poll group thread: decode cdw10/cdw11 and the data into ctx. */
static uint16_t resv_parse(struct nvmf_request *req, struct resv_ctx *ctx)
{
	const struct plx_nvme_cmd *cmd = req->cmd;
	uint32_t cdw10 = cmd->cdw10;
	uint64_t keys[2] = {0, 0};
	uint16_t status = 0;
	uint64_t numd;

	ctx->opc = cmd->opc;
	ctx->action = RESV_CDW10_ACTION(cdw10);
	ctx->iekey = RESV_CDW10_IEKEY(cdw10) != 0;
	ctx->rtype = RESV_CDW10_RTYPE(cdw10);
	switch (cmd->opc) {
	case PLX_NVME_OPC_RESERVATION_REGISTER:
		ctx->cptpl = RESV_CDW10_CPTPL(cdw10);
		if (ctx->action > PLX_NVME_RESV_REPLACE_KEY || ctx->cptpl == 1) {
			return RESV_INVALID_FIELD;
		}
		status = resv_parse_data(req, keys, RESV_REGISTER_LEN);
		break;
	case PLX_NVME_OPC_RESERVATION_ACQUIRE:
		status = resv_parse_data(req, keys, RESV_ACQUIRE_LEN);
		break;
	case PLX_NVME_OPC_RESERVATION_RELEASE:
		status = resv_parse_data(req, keys, RESV_RELEASE_LEN);
		break;
	case PLX_NVME_OPC_RESERVATION_REPORT:
		/* Fabrics host identifiers are 128-bit: only the extended structure holds them. */
		if ((cmd->cdw11 & RESV_REPORT_EDS) == 0) {
			return RESV_SC(PLX_NVME_SC_HOSTID_INCONSISTENT_FORMAT);
		}
		ctx->eds = true;
		numd = (uint64_t)cdw10 + 1;
		ctx->report_len = (size_t)PLX_MIN(numd * 4, (uint64_t)req->length);
		break;
	default:
		return RESV_SC(PLX_NVME_SC_INVALID_OPCODE);
	}
	ctx->crkey = keys[0];
	ctx->key2 = keys[1];
	return status;
}

static void resv_set_status(struct nvmf_request *req, uint16_t status)
{
	nvmf_request_set_status(req, (uint8_t)(status >> 8), (uint8_t)(status & 0xff));
}

/* The request's thread: the answer. */
static void resv_complete_msg(void *arg)
{
	struct resv_ctx *ctx = arg;
	struct nvmf_request *req = ctx->req;

	resv_set_status(req, ctx->status);
	if (ctx->status == 0 && ctx->report != NULL) {
		nvmf_request_copy_to_iov(req, ctx->report,
					 PLX_MIN(ctx->report_size, ctx->report_len), 0);
	}
	free(ctx->report);
	free(ctx);
	nvmf_request_complete(req);
}

/* App thread: this command is finished; answer it and start the next one. */
static void resv_app_done(struct resv_ctx *ctx)
{
	if (plx_thread_send_msg(ctx->req_thread, resv_complete_msg, ctx) != 0) {
		/* Only when the poll group is gone, and its requests with it. */
		PLX_ERRLOG("cannot answer a reservation command: its poll group is gone\n");
		free(ctx->report);
		free(ctx);
	}
	g_resv_busy = false;
	resv_app_kick();
}

static bool resv_hostid_in(const uint8_t (*set)[16], uint32_t n, const uint8_t hostid[16])
{
	for (uint32_t i = 0; i < n; i++) {
		if (memcmp(set[i], hostid, 16) == 0) {
			return true;
		}
	}
	return false;
}

/* Tell every controller of the hosts in set (except the issuer) about type. */
static void resv_notify_hosts(struct resv_ctx *ctx, const uint8_t (*set)[16], uint32_t n,
			      uint8_t type)
{
	struct nvmf_ctrlr *ctrlr;

	TAILQ_FOREACH(ctrlr, &ctx->subsys->ctrlrs, link)
	{
		if (memcmp(ctrlr->hostid, ctx->hostid, 16) != 0 &&
		    resv_hostid_in(set, n, ctrlr->hostid)) {
			nvmf_ctrlr_notify(ctrlr, NVMF_NOTICE_RESERVATION, ctx->nsid, type);
		}
	}
}

static bool resv_type_notifies_release(uint8_t rtype)
{
	return rtype != PLX_NVME_RESV_NONE && rtype != PLX_NVME_RESV_WRITE_EXCLUSIVE &&
	       rtype != PLX_NVME_RESV_EXCLUSIVE_ACCESS;
}

/*
 * The notices of the spec: registrations removed by a preempt; the reservation released (or
 * its type changed) under the remaining registrants of a type that names them; everyone's
 * reservation gone with a Clear.
 */
static void resv_notify(struct resv_ctx *ctx)
{
	const struct nvmf_reservation *resv = &ctx->ns->resv;
	struct nvmf_pg_ns now;
	bool released = false;

	nvmf_ns_reservation_snapshot(ctx->ns, &now);
	switch (ctx->opc) {
	case PLX_NVME_OPC_RESERVATION_REGISTER:
		released = resv_type_notifies_release(ctx->before.rtype) &&
			   resv->rtype == PLX_NVME_RESV_NONE;
		break;
	case PLX_NVME_OPC_RESERVATION_ACQUIRE:
		resv_notify_hosts(ctx, (const uint8_t(*)[16])ctx->preempted, ctx->num_preempted,
				  PLX_NVME_REGISTRATION_PREEMPTED);
		released = ctx->before.rtype != PLX_NVME_RESV_NONE &&
			   resv->rtype != PLX_NVME_RESV_NONE && ctx->before.rtype != resv->rtype;
		break;
	case PLX_NVME_OPC_RESERVATION_RELEASE:
		if (ctx->action == PLX_NVME_RESV_CLEAR) {
			resv_notify_hosts(ctx, (const uint8_t(*)[16])ctx->before.reg_hostid,
					  ctx->before.num_registrants,
					  PLX_NVME_RESERVATION_PREEMPTED);
			return;
		}
		released = ctx->released && resv_type_notifies_release(ctx->before.rtype);
		break;
	default:
		break;
	}
	if (released) {
		resv_notify_hosts(ctx, (const uint8_t(*)[16])now.reg_hostid, now.num_registrants,
				  PLX_NVME_RESERVATION_RELEASED);
	}
}

static uint16_t resv_apply(struct resv_ctx *ctx)
{
	struct nvmf_reservation *resv = &ctx->ns->resv;
	uint16_t status;

	switch (ctx->opc) {
	case PLX_NVME_OPC_RESERVATION_REGISTER:
		/* Persisting needs a file to persist to (RESCAP.PTPL is set only with one). */
		if (ctx->cptpl == PLX_NVME_RESV_PTPL_PERSIST_POWER_LOSS &&
		    ctx->ns->ptpl_file[0] == '\0') {
			return RESV_INVALID_FIELD;
		}
		status = nvmf_resv_register(resv, ctx->hostid, ctx->action, ctx->iekey, ctx->crkey,
					    ctx->key2);
		if (status == 0 && ctx->cptpl != PLX_NVME_RESV_PTPL_NO_CHANGES) {
			__atomic_store_n(&resv->ptpl_activated,
					 ctx->cptpl == PLX_NVME_RESV_PTPL_PERSIST_POWER_LOSS,
					 __ATOMIC_RELAXED);
		}
		return status;
	case PLX_NVME_OPC_RESERVATION_ACQUIRE:
		return nvmf_resv_acquire(resv, ctx->hostid, ctx->action, ctx->rtype, ctx->iekey,
					 ctx->crkey, ctx->key2, ctx->preempted,
					 &ctx->num_preempted);
	default:
		return nvmf_resv_release(resv, ctx->hostid, ctx->action, ctx->rtype, ctx->iekey,
					 ctx->crkey, &ctx->released);
	}
}

static bool resv_changed(const struct resv_ctx *ctx)
{
	const struct nvmf_reservation *resv = &ctx->ns->resv;
	const struct nvmf_pg_ns *b = &ctx->before;
	const uint8_t *holder = resv->holder != NULL ? resv->holder->hostid : NULL;

	return resv->generation != ctx->gen_before || resv->ptpl_activated != ctx->ptpl_before ||
	       resv->rtype != b->rtype || (holder != NULL) != b->has_holder ||
	       (holder != NULL && memcmp(holder, b->holder_hostid, 16) != 0) ||
	       resv->num_registrants != b->num_registrants;
}

/* Poll group thread: take the new state into this group's snapshot. */
static void resv_pg_refresh(struct nvmf_poll_group *group, void *arg)
{
	struct resv_ctx *ctx = arg;
	struct nvmf_pg_subsystem *sgroup;
	struct nvmf_pg_ns *pg_ns;

	if (ctx->subsys->id < group->num_sgroups) {
		sgroup = nvmf_pg_get_sgroup(group, ctx->subsys);
		pg_ns = sgroup->ns_info != NULL ? nvmf_pg_get_ns(sgroup, ctx->nsid) : NULL;
		if (pg_ns != NULL && pg_ns->ns == ctx->ns) {
			nvmf_ns_reservation_snapshot(ctx->ns, pg_ns);
		}
	}
	nvmf_poll_group_continue(group, ctx);
}

static void resv_pg_refresh_done(void *arg)
{
	resv_app_done(arg);
}

static void resv_app_report(struct resv_ctx *ctx)
{
	ctx->report_size = resv_report_size(&ctx->ns->resv, ctx->eds);
	ctx->report = calloc(1, ctx->report_size);
	if (ctx->report == NULL) {
		ctx->status = RESV_INTERNAL_ERROR;
		return;
	}
	resv_build_report(&ctx->ns->resv, ctx->eds, ctx->report);
}

/* App thread: apply one command; ends, now or after the poll groups, in resv_app_done. */
static void resv_app_execute(struct resv_ctx *ctx)
{
	ctx->ns = nvmf_subsystem_get_ns(ctx->subsys, ctx->nsid);
	if (ctx->ns == NULL) {
		ctx->status = RESV_SC(PLX_NVME_SC_INVALID_NAMESPACE_OR_FORMAT);
		resv_app_done(ctx);
		return;
	}
	resv_init_once(&ctx->ns->resv);
	if (ctx->opc == PLX_NVME_OPC_RESERVATION_REPORT) {
		resv_app_report(ctx);
		resv_app_done(ctx);
		return;
	}
	nvmf_ns_reservation_snapshot(ctx->ns, &ctx->before);
	ctx->gen_before = ctx->ns->resv.generation;
	ctx->ptpl_before = ctx->ns->resv.ptpl_activated;
	ctx->status = resv_apply(ctx);
	if (!resv_changed(ctx)) {
		resv_app_done(ctx);
		return;
	}
	if (ctx->ns->ptpl_file[0] != '\0' && resv_ptpl_save(ctx->ns) != 0) {
		/* The change stands (hosts see it in a report); the host learns it is not durable.
		 */
		ctx->status = RESV_INTERNAL_ERROR;
	}
	resv_notify(ctx);
	nvmf_tgt_for_each_poll_group(ctx->subsys->tgt, resv_pg_refresh, ctx, resv_pg_refresh_done);
}

static void resv_app_kick(void)
{
	struct resv_ctx *ctx;

	/* A loop, not recursion, when commands finish synchronously one after another. */
	if (g_resv_kicking) {
		return;
	}
	g_resv_kicking = true;
	while (!g_resv_busy && (ctx = TAILQ_FIRST(&g_resv_queue)) != NULL) {
		TAILQ_REMOVE(&g_resv_queue, ctx, link);
		g_resv_busy = true;
		resv_app_execute(ctx);
	}
	g_resv_kicking = false;
}

static void resv_app_enqueue(void *arg)
{
	struct resv_ctx *ctx = arg;

	TAILQ_INSERT_TAIL(&g_resv_queue, ctx, link);
	resv_app_kick();
}

void nvmf_ns_reservation_request(struct nvmf_request *req, struct nvmf_pg_ns *pg_ns)
{
	struct nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	struct resv_ctx *ctx;
	uint16_t status;

	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		resv_set_status(req, RESV_INTERNAL_ERROR);
		nvmf_request_complete(req);
		return;
	}
	status = resv_parse(req, ctx);
	if (status != 0) {
		free(ctx);
		resv_set_status(req, status);
		nvmf_request_complete(req);
		return;
	}
	ctx->req = req;
	ctx->req_thread = req->qpair->group->thread;
	ctx->subsys = ctrlr->subsys;
	ctx->nsid = req->cmd->nsid;
	memcpy(ctx->hostid, ctrlr->hostid, 16);
	if (plx_thread_send_msg(ctrlr->subsys->tgt->thread, resv_app_enqueue, ctx) != 0) {
		PLX_ERRLOG("cannot pass a reservation command to the app thread\n");
		free(ctx);
		resv_set_status(req, RESV_INTERNAL_ERROR);
		nvmf_request_complete(req);
	}
}
