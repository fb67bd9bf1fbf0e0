#ifndef MOONWIRE_BUDGET_INTERNAL_H
#define MOONWIRE_BUDGET_INTERNAL_H

#include "luashim.h"

#include <pthread.h>
#include <stdatomic.h>

struct shim_budget {
    size_t memory_limit;          // bytes; 0 = none
    size_t memory_used;
    int enforcing_memory;         // the cap applies only while Lua code runs, never in a Swift body
    int memory_hit;               // the cap refused an allocation in this run
    int64_t deadline_ns;          // CLOCK_MONOTONIC; 0 = none
    int expired;                  // the deadline passed: every hook call raises again
    int depth;                    // nested runs (require inside a handler)
    int64_t instructions;         // counted by the hook, in steps of SHIM_HOOK_STEP
    // Read by the watchdog on another thread.
    _Atomic int64_t running_since_ns;
    _Atomic int line;
    _Atomic int64_t label;        // what the host is running (its own code: a handler, a timer)
    pthread_mutex_t where_lock;
    char source[64];
};

shim_budget *shim_budget_of(lua_State *L);

/// Counts loop steps in C functions; every 4096 it checks the deadline (and raises). A step
/// that does more work (a long memcmp) counts as several.
typedef struct shim_ticker {
    lua_State *L;
    unsigned steps;
} shim_ticker;

static inline void shim_tick_by(shim_ticker *ticker, size_t steps) {
    ticker->steps += steps > 4096 ? 4096 : (unsigned)steps;
    if (ticker->steps >= 4096) {
        ticker->steps = 0;
        shim_check_budget(ticker->L);
    }
}

static inline void shim_tick(shim_ticker *ticker) { shim_tick_by(ticker, 1); }

void shim_open_budgeted_string(lua_State *L, int string_table);
void shim_open_budgeted_table(lua_State *L, int table_table);

#endif
