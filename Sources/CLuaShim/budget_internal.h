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
    _Atomic int64_t deadline_ns;  // CLOCK_MONOTONIC; 0 = none. Read by the arming thread too
    int expired;                  // the deadline passed: every hook call raises again
    volatile int depth;           // nested runs (require inside a handler); read by the signal
    // The state of the innermost run: what the arming signal arms (budget_arming.c). Written
    // on the run's thread, read by the signal handler that interrupts that same thread.
    lua_State *volatile armed_L;
    // Read by the watchdog on another thread.
    _Atomic int64_t running_since_ns;
    _Atomic int64_t thread_id;    // the kernel's id of the thread of the outermost run
    // The arming thread's own: the registry's links (under its lock), the run it signalled
    // last and when.
    struct shim_budget *registry_next, *registry_prev;
    int64_t signalled_run, signalled_at_ns;
    _Atomic int line;
    _Atomic int64_t label;        // what the host is running (its own code: a handler, a timer)
    pthread_mutex_t where_lock;
    char source[64];
};

shim_budget *shim_budget_of(lua_State *L);

/// Whether the run in progress has passed its deadline (luashim.c).
int shim_budget_deadline_passed(const shim_budget *budget);

/// The hook that holds the time budget (luashim.c).
void shim_budget_hook(lua_State *L, lua_Debug *ar);

// MARK: Arming the hook (budget_arming.c)
//
// A count hook makes Lua's VM stop at every instruction to count it (`luaG_traceexec`): with
// it a strategy's Lua code runs about 1.7 times slower. So the hook is not set when a run
// starts: a thread of the host watches the deadlines of the runs in progress and, when one
// has passed, signals (SIGURG) the thread running it, whose handler arms the hook on the
// run's state. This is how Lua's own interpreter stops a script on Ctrl-C: `lua_sethook` is
// safe in a signal handler on the interrupted thread, and the VM looks at the hook again at
// every jump and loop step. Coroutines the strategy creates are hooked from the start
// (the signal arms only the run's state); C functions that loop check the clock themselves.
//
// Under ThreadSanitizer signals wait for the next intercepted call, which a Lua loop never
// makes: there every run sets its count hook at the start, as before.

/// Adds `budget` to those the arming thread watches (starting it the first time).
void shim_arming_register(shim_budget *budget);
/// Removes it: once this returns, the arming thread no longer reads it.
void shim_arming_unregister(shim_budget *budget);
/// The outermost run of `budget` begins (ends) on this thread: the signal finds it here.
/// Returns the budget that was current on this thread, to be restored at the end.
shim_budget *shim_arming_begin(shim_budget *budget);
void shim_arming_end(shim_budget *previous);

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
