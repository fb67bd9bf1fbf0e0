#ifndef MOONWIRE_LUASHIM_H
#define MOONWIRE_LUASHIM_H

// The C side of Moonwire's Lua embedding: every frame that may longjmp (lua_error,
// lua_yield) is a C frame here, never a Swift one (design.md invariant 2).

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stddef.h>
#include <stdint.h>

/// A host function written in Swift. Returns the number of results it pushed, or
/// SHIM_RAISE (the error message is on the stack top), or SHIM_YIELD (suspend the calling
/// coroutine; the host resumes it later with the reply).
typedef int (*shim_hostfn)(lua_State *L, void *context);
#define SHIM_RAISE (-1)
#define SHIM_YIELD (-2)

/// Per-state limits: the memory cap, the time budget of the run in progress, and where the
/// run is (for a watchdog on another thread). Opaque: only the functions below touch it.
typedef struct shim_budget shim_budget;

#define SHIM_HOOK_STEP 1000

shim_budget *shim_budget_new(size_t memory_limit);
void shim_budget_free(shim_budget *budget);
size_t shim_budget_memory_used(const shim_budget *budget);
size_t shim_budget_memory_limit(const shim_budget *budget);
void shim_budget_set_memory_limit(shim_budget *budget, size_t limit);
/// True when the run in progress (or the one that just ended) passed its deadline.
int shim_budget_expired(const shim_budget *budget);
/// True when the memory cap refused an allocation during the run in progress.
int shim_budget_memory_hit(const shim_budget *budget);

/// CLOCK_MONOTONIC in nanoseconds.
int64_t shim_now_ns(void);

/// What the host says it is running (a number it chose: a handler, a timer id), for the
/// watchdog on another thread. Atomic: cheap enough to set before every run.
void shim_budget_set_label(shim_budget *budget, int64_t label);
int64_t shim_budget_label(const shim_budget *budget);

/// Any thread: CLOCK_MONOTONIC ns at which the outermost run began, 0 when none runs.
int64_t shim_budget_running_since(const shim_budget *budget);
/// Any thread: the last source position the budget hook saw ("file.lua", line). Returns
/// the line (0 when unknown) and copies the chunk name into `source`.
int shim_budget_where(shim_budget *budget, char *source, size_t capacity);

/// Saved state of an enclosing run, restored when a nested run ends.
typedef struct shim_budget_frame {
    int64_t deadline_ns;
    int expired;
    int enforcing_memory;
    lua_Hook hook;
    int mask;
    int count;
    lua_State *armed;           // the enclosing run's state
    shim_budget *outer_current; // the budget current on this thread before the outermost run
} shim_budget_frame;

/// Starts a run on `L` (a thread): the deadline is `nanoseconds` from now, but never later
/// than an enclosing run's; the memory cap is enforced; the budget hook is armed on `L` when
/// the deadline passes (budget_internal.h says how).
void shim_budget_enter(lua_State *L, shim_budget *budget, int64_t nanoseconds, shim_budget_frame *saved);
/// The same with the time it starts at (`shim_now_ns()`, read once by a caller that times
/// the run too).
void shim_budget_enter_at(lua_State *L, shim_budget *budget, int64_t nanoseconds, int64_t now, shim_budget_frame *saved);
/// Ends the run started by the matching enter: the enclosing run's deadline, cap and
/// hook come back exactly as they were.
void shim_budget_leave(lua_State *L, shim_budget *budget, const shim_budget_frame *saved);

/// 1 when a run's hook is armed by a signal once its deadline passed (budget_internal.h), 0
/// when every run sets its count hook at its start (under ThreadSanitizer).
int shim_arming_by_signal(void);

/// Raises the budget error when the deadline has passed (for C functions that loop).
void shim_check_budget(lua_State *L);

/// A new state whose allocator counts bytes against `budget` and whose panic handler logs.
lua_State *shim_newstate(shim_budget *budget);
void shim_close(lua_State *L);

/// Opens base, table, string, math, utf8 and coroutine only.
void shim_open_safe_libs(lua_State *L);

/// Makes the libraries safe for strategies: budget-aware string.rep/find/match/gmatch/gsub
/// and table.move/sort; setmetatable without __gc; getmetatable of tables only; the
/// handlers' own coroutines out of coroutine.resume/close's reach.
void shim_harden_libs(lua_State *L);
/// Marks `co` as a coroutine the host runs handlers in (coroutine.resume/close refuse it).
void shim_mark_host_thread(lua_State *L, lua_State *co);

/// Pushes a C closure over `fn` and `context` that the trampoline calls.
void shim_push_hostfn(lua_State *L, shim_hostfn fn, void *context);

/// lua_resume. Returns the status; *nresults the number of values on `co`'s stack.
int shim_resume(lua_State *co, lua_State *from, int nargs, int *nresults);
/// lua_pcall with a traceback message handler.
int shim_pcall_traceback(lua_State *L, int nargs, int nresults);
/// Loads text only (never binary chunks) with the given chunk name.
int shim_load_text(lua_State *L, const char *source, size_t length, const char *chunkname);

/// Appends a traceback of `co` to the message on top of L.
void shim_traceback(lua_State *L, lua_State *co, const char *message);

/// A C function that spins for `seconds` without ever returning to the Lua VM (so no hook
/// runs): stands for a C function the host could not bound, in the hung-strategy tests.
int shim_test_block_in_c(lua_State *L);

// Macros Swift cannot import.
int shim_registryindex(void);
int shim_upvalueindex(int i);
void shim_pop(lua_State *L, int n);
void shim_newtable(lua_State *L);
const char *shim_tostring(lua_State *L, int index, size_t *length);
int shim_isinteger(lua_State *L, int index);
int shim_gc_count_kb(lua_State *L);
void shim_gc_collect(lua_State *L);
int shim_resetthread(lua_State *co, lua_State *from);
/// Pushes a table `{ __index = base }` sealed against changes of its metatable.
void shim_set_readonly_fallback(lua_State *L, int table_index, int base_index);

#endif
