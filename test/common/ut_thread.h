/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A deterministic harness for multi-thread logic: N plx_threads run on the calling OS thread,
 * one step at a time, under a fake clock. Later libraries use it to unit-test code that sends
 * messages between threads, reproducibly:
 *
 *   ut_threads_init(3);
 *   ut_set_thread(0);                  // make thread 0 current for the calls that follow
 *   plx_thread_send_msg(ut_thread(1), fn, ctx);
 *   ut_poll_threads();                 // run every thread until none has work
 *   ut_advance_time_us(1000);          // move the clock; timed pollers fall due
 *   ut_threads_fini();                 // exit every thread and check nothing leaked
 */
#ifndef POLLUX_TEST_UT_THREAD_H
#define POLLUX_TEST_UT_THREAD_H

#include <stdbool.h>
#include <stdint.h>

#include "pollux/thread.h"

/* Initialise the thread library (polled mode) and create n threads "ut0".."ut<n-1>". */
void ut_threads_init(unsigned int n);

/* Exit every thread, poll until all exited, destroy them, tear the library down. */
void ut_threads_fini(void);

/* The i-th harness thread, and making it current. */
struct plx_thread *ut_thread(unsigned int i);
void ut_set_thread(unsigned int i);

/* Poll thread i once; returns what plx_thread_poll returned. Thread i stays current after. */
int ut_poll_thread(unsigned int i);

/* Poll every thread round-robin until a full round does no work; returns the rounds run. */
unsigned int ut_poll_threads(void);

/* The fake clock, in ticks, and moving it forward. */
uint64_t ut_now(void);
void ut_advance_time_us(uint64_t us);

#endif
