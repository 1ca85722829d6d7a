/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollux_tgt: one target process with every Pollux subsystem, configured over JSON-RPC or a
 * JSON config file. Subsystems link in and register themselves; this file only starts the app.
 */
#include <stdio.h>
#include <stdlib.h>

#include "pollux/event.h"

int main(int argc, char **argv)
{
	struct plx_app_opts opts;
	int rc;

	plx_app_opts_init(&opts);
	opts.print_ready = true;
	switch (plx_app_parse_args(argc, argv, &opts, NULL)) {
	case PLX_APP_PARSE_EXIT:
		return 0;
	case PLX_APP_PARSE_ERROR:
		return 2;
	default:
		break;
	}
	rc = plx_app_start(&opts, NULL, NULL);
	if (rc != 0) {
		fprintf(stderr, "%s: exiting with error %d\n", opts.name, rc);
		return 1;
	}
	return 0;
}
