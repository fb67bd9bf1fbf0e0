#include "luashim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// The allocator: counts bytes, refuses past the cap while Lua code runs.
static void *budget_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    shim_budget *budget = (shim_budget *)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        budget->memory_used -= old;
        free(ptr);
        return NULL;
    }
    if (budget->enforcing_memory && budget->memory_limit > 0 && nsize > old &&
        budget->memory_used + (nsize - old) > budget->memory_limit) {
        return NULL;  // Lua raises LUA_ERRMEM in the running (protected) code
    }
    void *next = realloc(ptr, nsize);
    if (next != NULL) budget->memory_used = budget->memory_used - old + nsize;
    return next;
}

static int on_panic(lua_State *L) {
    const char *message = lua_tostring(L, -1);
    fprintf(stderr, "moonwire: unprotected Lua error (a bug in the host): %s\n", message ? message : "?");
    abort();
}

lua_State *shim_newstate(shim_budget *budget) {
    lua_State *L = lua_newstate(budget_alloc, budget);
    if (L != NULL) lua_atpanic(L, on_panic);
    return L;
}

void shim_close(lua_State *L) { lua_close(L); }

void shim_open_safe_libs(lua_State *L) {
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
    luaL_requiref(L, LUA_COLIBNAME, luaopen_coroutine, 1);
    lua_pop(L, 6);
}

// The only frame that raises or yields on behalf of Swift.
static int trampoline(lua_State *L) {
    shim_hostfn fn = (shim_hostfn)lua_touserdata(L, lua_upvalueindex(1));
    void *context = lua_touserdata(L, lua_upvalueindex(2));
    int n = fn(L, context);
    if (n == SHIM_RAISE) return lua_error(L);
    if (n == SHIM_YIELD) return lua_yield(L, 0);
    return n;
}

void shim_push_hostfn(lua_State *L, shim_hostfn fn, void *context) {
    lua_pushlightuserdata(L, (void *)fn);
    lua_pushlightuserdata(L, context);
    lua_pushcclosure(L, trampoline, 2);
}

// The budget hook: every SHIM_HOOK_STEP instructions, and once expired on every line and
// call too, so a `pcall` in the script cannot swallow the stop (Redis's approach).
static void budget_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    shim_budget *budget = NULL;
    lua_getallocf(L, (void **)&budget);
    if (budget == NULL) return;
    budget->instructions += SHIM_HOOK_STEP;
    if (!budget->expired && budget->deadline_ns > 0 && now_ns() > budget->deadline_ns) {
        budget->expired = 1;
        lua_sethook(L, budget_hook, LUA_MASKCOUNT | LUA_MASKLINE | LUA_MASKCALL, 1);
    }
    if (budget->expired) {
        luaL_error(L, "time budget exceeded: the handler ran too long and was stopped");
    }
}

void shim_arm_budget(lua_State *L, shim_budget *budget, int64_t nanoseconds) {
    budget->expired = 0;
    budget->instructions = 0;
    budget->deadline_ns = nanoseconds > 0 ? now_ns() + nanoseconds : 0;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, SHIM_HOOK_STEP);
}

void shim_disarm_budget(lua_State *L, shim_budget *budget) {
    budget->deadline_ns = 0;
    budget->expired = 0;
    lua_sethook(L, NULL, 0, 0);
}

int shim_resume(lua_State *co, lua_State *from, int nargs, int *nresults, shim_budget *budget) {
    budget->enforcing_memory = 1;
    int status = lua_resume(co, from, nargs, nresults);
    budget->enforcing_memory = 0;
    return status;
}

static int traceback_handler(lua_State *L) {
    const char *message = lua_tostring(L, 1);
    if (message == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        message = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, message, 1);
    return 1;
}

int shim_pcall_traceback(lua_State *L, int nargs, int nresults, shim_budget *budget) {
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, traceback_handler);
    lua_insert(L, base);
    budget->enforcing_memory = 1;
    int status = lua_pcall(L, nargs, nresults, base);
    budget->enforcing_memory = 0;
    lua_remove(L, base);
    return status;
}

int shim_load_text(lua_State *L, const char *source, size_t length, const char *chunkname) {
    return luaL_loadbufferx(L, source, length, chunkname, "t");
}

void shim_traceback(lua_State *L, lua_State *co, const char *message) {
    luaL_traceback(L, co, message, 0);
}

int shim_registryindex(void) { return LUA_REGISTRYINDEX; }
int shim_upvalueindex(int i) { return lua_upvalueindex(i); }
void shim_pop(lua_State *L, int n) { lua_pop(L, n); }
void shim_newtable(lua_State *L) { lua_newtable(L); }
const char *shim_tostring(lua_State *L, int index, size_t *length) { return lua_tolstring(L, index, length); }
int shim_isinteger(lua_State *L, int index) { return lua_isinteger(L, index); }
int shim_gc_count_kb(lua_State *L) { return lua_gc(L, LUA_GCCOUNT, 0); }
void shim_gc_collect(lua_State *L) { lua_gc(L, LUA_GCCOLLECT, 0); }

int shim_resetthread(lua_State *co, lua_State *from) {
#if LUA_VERSION_RELEASE_NUM >= 50406
    return lua_closethread(co, from);
#else
    (void)from;
    return lua_resetthread(co);
#endif
}

void shim_set_readonly_fallback(lua_State *L, int table_index, int base_index) {
    table_index = lua_absindex(L, table_index);
    base_index = lua_absindex(L, base_index);
    lua_newtable(L);
    lua_pushvalue(L, base_index);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, table_index);
}
