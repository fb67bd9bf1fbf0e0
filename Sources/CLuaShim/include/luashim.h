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

/// Per-state limits and the flags the hook and the allocator read.
typedef struct shim_budget {
    size_t memory_limit;      // bytes; 0 = none
    size_t memory_used;
    int enforcing_memory;     // the cap applies only while Lua runs, never inside a Swift push
    int64_t deadline_ns;      // CLOCK_MONOTONIC; 0 = none
    int expired;              // set once the deadline passed: every hook call raises again
    int64_t instructions;     // counted by the hook, in steps of SHIM_HOOK_STEP
} shim_budget;

#define SHIM_HOOK_STEP 1000

/// A new state whose allocator counts bytes against `budget` and whose panic handler logs.
lua_State *shim_newstate(shim_budget *budget);
void shim_close(lua_State *L);

/// Opens base, table, string, math, utf8 and coroutine only.
void shim_open_safe_libs(lua_State *L);

/// Pushes a C closure over `fn` and `context` that the trampoline calls.
void shim_push_hostfn(lua_State *L, shim_hostfn fn, void *context);

/// Arms the instruction/time budget for the next run (deadline in ns from now; 0 = none).
void shim_arm_budget(lua_State *L, shim_budget *budget, int64_t nanoseconds);
void shim_disarm_budget(lua_State *L, shim_budget *budget);

/// lua_resume with the memory cap enforced while Lua runs. Returns the status; *nresults
/// the number of values on `co`'s stack.
int shim_resume(lua_State *co, lua_State *from, int nargs, int *nresults, shim_budget *budget);
/// lua_pcall with a traceback message handler, memory cap enforced.
int shim_pcall_traceback(lua_State *L, int nargs, int nresults, shim_budget *budget);
/// Loads text only (never binary chunks) with the given chunk name.
int shim_load_text(lua_State *L, const char *source, size_t length, const char *chunkname);

/// Appends a traceback of `co` to the message on top of L.
void shim_traceback(lua_State *L, lua_State *co, const char *message);

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
