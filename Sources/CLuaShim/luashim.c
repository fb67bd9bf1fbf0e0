#include "budget_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t shim_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// MARK: The budget

shim_budget *shim_budget_new(size_t memory_limit) {
    shim_budget *budget = calloc(1, sizeof(shim_budget));
    if (budget == NULL) return NULL;
    budget->memory_limit = memory_limit;
    pthread_mutex_init(&budget->where_lock, NULL);
    atomic_store(&budget->running_since_ns, 0);
    atomic_store(&budget->deadline_ns, 0);
    atomic_store(&budget->thread_id, 0);
    atomic_store(&budget->line, 0);
    shim_arming_register(budget);
    return budget;
}

void shim_budget_free(shim_budget *budget) {
    if (budget == NULL) return;
    shim_arming_unregister(budget);
    pthread_mutex_destroy(&budget->where_lock);
    free(budget);
}

size_t shim_budget_memory_used(const shim_budget *budget) { return budget->memory_used; }
size_t shim_budget_memory_limit(const shim_budget *budget) { return budget->memory_limit; }
void shim_budget_set_memory_limit(shim_budget *budget, size_t limit) { budget->memory_limit = limit; }
int shim_budget_expired(const shim_budget *budget) { return budget->expired; }
int shim_budget_memory_hit(const shim_budget *budget) { return budget->memory_hit; }
void shim_budget_set_label(shim_budget *budget, int64_t label) { atomic_store_explicit(&budget->label, label, memory_order_relaxed); }
int64_t shim_budget_label(const shim_budget *budget) { return atomic_load_explicit(&((shim_budget *)budget)->label, memory_order_relaxed); }
int64_t shim_budget_running_since(const shim_budget *budget) {
    return atomic_load(&((shim_budget *)budget)->running_since_ns);
}

int shim_budget_where(shim_budget *budget, char *source, size_t capacity) {
    pthread_mutex_lock(&budget->where_lock);
    if (capacity > 0) {
        strncpy(source, budget->source, capacity - 1);
        source[capacity - 1] = '\0';
    }
    int line = atomic_load(&budget->line);
    pthread_mutex_unlock(&budget->where_lock);
    return line;
}

shim_budget *shim_budget_of(lua_State *L) {
    void *budget = NULL;
    lua_getallocf(L, &budget);
    return (shim_budget *)budget;
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
        budget->memory_hit = 1;
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
    if (L == NULL) return NULL;
    lua_atpanic(L, on_panic);
    // Generational: a handler's argument tables (a bar, a quote) die young, thousands a
    // second; minor collections free them without walking what the strategy keeps.
    lua_gc(L, LUA_GCGEN, 0, 0);
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

// MARK: The hook and the deadline

#define BUDGET_MESSAGE "time budget exceeded: the handler ran too long and was stopped"
#define HOOK_EVERYTHING (LUA_MASKCOUNT | LUA_MASKLINE | LUA_MASKCALL)

static int64_t deadline_of(const shim_budget *budget) {
    return atomic_load_explicit(&((shim_budget *)budget)->deadline_ns, memory_order_relaxed);
}

static void set_deadline(shim_budget *budget, int64_t deadline) {
    atomic_store_explicit(&budget->deadline_ns, deadline, memory_order_relaxed);
}

int shim_budget_deadline_passed(const shim_budget *budget) {
    int64_t deadline = deadline_of(budget);
    return deadline > 0 && shim_now_ns() > deadline;
}

// Once expired, the hook runs on every line and call too, so a `pcall` in the script cannot
// swallow the stop (Redis's approach). The run's own state too when the hook ran in a
// coroutine of the strategy's: it is suspended in coroutine.resume on this thread (so safe
// to change) and must not go on unhooked when the coroutine's error returns to it.
static void expire(lua_State *L, shim_budget *budget) {
    budget->expired = 1;
    lua_sethook(L, shim_budget_hook, HOOK_EVERYTHING, 1);
    lua_State *run = budget->armed_L;
    if (run != NULL && run != L) lua_sethook(run, shim_budget_hook, HOOK_EVERYTHING, 1);
}

static void record_where(shim_budget *budget, lua_State *L, lua_Debug *ar) {
    if (!lua_getinfo(L, "Sl", ar)) return;
    if (ar->currentline > 0) {
        pthread_mutex_lock(&budget->where_lock);
        strncpy(budget->source, ar->short_src, sizeof(budget->source) - 1);
        budget->source[sizeof(budget->source) - 1] = '\0';
        atomic_store(&budget->line, ar->currentline);
        pthread_mutex_unlock(&budget->where_lock);
    }
}

// Where a C function was called from (level 1: its Lua caller): a C function that never
// returns is reported at that line.
static void record_caller(lua_State *L) {
    shim_budget *budget = shim_budget_of(L);
    lua_Debug ar;
    if (budget != NULL && lua_getstack(L, 1, &ar)) record_where(budget, L, &ar);
}

void shim_budget_hook(lua_State *L, lua_Debug *ar) {
    shim_budget *budget = shim_budget_of(L);
    if (budget == NULL) return;
    if (ar->event == LUA_HOOKCOUNT && !budget->expired) record_where(budget, L, ar);
    if (!budget->expired && shim_budget_deadline_passed(budget)) expire(L, budget);
    if (budget->expired) {
        // In a hook, level 0 is the Lua function that was running: name its line.
        luaL_where(L, 0);
        lua_pushliteral(L, BUDGET_MESSAGE);
        lua_concat(L, 2);
        lua_error(L);
    }
    // Armed by a signal for a deadline that moved on (a nested run's ended): count in steps
    // again rather than stop at every instruction.
    if (ar->event == LUA_HOOKCOUNT && lua_gethookcount(L) == 1) lua_sethook(L, shim_budget_hook, LUA_MASKCOUNT, SHIM_HOOK_STEP);
}

void shim_check_budget(lua_State *L) {
    shim_budget *budget = shim_budget_of(L);
    if (budget == NULL) return;
    if (!budget->expired && shim_budget_deadline_passed(budget)) expire(L, budget);
    if (budget->expired) luaL_error(L, BUDGET_MESSAGE);
}

void shim_budget_enter(lua_State *L, shim_budget *budget, int64_t nanoseconds, shim_budget_frame *saved) {
    shim_budget_enter_at(L, budget, nanoseconds, shim_now_ns(), saved);
}

void shim_budget_enter_at(lua_State *L, shim_budget *budget, int64_t nanoseconds, int64_t now, shim_budget_frame *saved) {
    saved->deadline_ns = deadline_of(budget);
    saved->expired = budget->expired;
    saved->enforcing_memory = budget->enforcing_memory;
    saved->hook = lua_gethook(L);
    saved->mask = lua_gethookmask(L);
    saved->count = lua_gethookcount(L);
    saved->armed = budget->armed_L;
    saved->outer_current = NULL;
    int64_t mine = nanoseconds > 0 ? now + nanoseconds : 0;
    // The state first: a signal that comes once the run is visible arms this one.
    budget->armed_L = L;
    if (budget->depth == 0) {
        budget->expired = 0;
        budget->memory_hit = 0;
        set_deadline(budget, mine);
        atomic_store(&budget->line, 0);  // no stale position from an earlier run
        // This thread first: the arming thread signals the thread it finds here once it sees
        // the run in progress.
        saved->outer_current = shim_arming_begin(budget);
        atomic_store(&budget->running_since_ns, now);
    } else if (mine > 0 && (saved->deadline_ns == 0 || mine < saved->deadline_ns)) {
        set_deadline(budget, mine);  // a nested run never extends the enclosing deadline
    }
    budget->depth += 1;
    budget->enforcing_memory = 1;
    if (budget->expired) {
        lua_sethook(L, shim_budget_hook, HOOK_EVERYTHING, 1);
    } else if (!shim_arming_by_signal()) {
        lua_sethook(L, shim_budget_hook, LUA_MASKCOUNT, SHIM_HOOK_STEP);
    }
}

void shim_budget_leave(lua_State *L, shim_budget *budget, const shim_budget_frame *saved) {
    if (budget->depth == 1) shim_arming_end(saved->outer_current);  // no signal arms it from here
    budget->depth -= 1;
    budget->enforcing_memory = saved->enforcing_memory;
    lua_sethook(L, saved->hook, saved->mask, saved->count);
    budget->armed_L = saved->armed;
    if (budget->depth == 0) {
        set_deadline(budget, 0);
        atomic_store(&budget->running_since_ns, 0);
        // `expired` and `memory_hit` stay readable until the next outermost run.
    } else {
        int outer_passed = saved->deadline_ns > 0 && shim_now_ns() > saved->deadline_ns;
        set_deadline(budget, saved->deadline_ns);
        budget->expired = saved->expired || outer_passed;
        // The enclosing run goes on past its deadline: stopped at its next instruction.
        if (budget->expired && saved->armed != NULL) lua_sethook(saved->armed, shim_budget_hook, HOOK_EVERYTHING, 1);
    }
}

// MARK: Host functions

// The only frame that raises or yields on behalf of Swift. While the Swift body runs the
// memory cap is off (an allocation refused there would longjmp through Swift); it is
// checked again when the body has returned, from this C frame.
static int trampoline(lua_State *L) {
    shim_hostfn fn = (shim_hostfn)lua_touserdata(L, lua_upvalueindex(1));
    void *context = lua_touserdata(L, lua_upvalueindex(2));
    shim_budget *budget = shim_budget_of(L);
    record_caller(L);
    int enforcing = budget->enforcing_memory;
    budget->enforcing_memory = 0;
    int n = fn(L, context);
    budget->enforcing_memory = enforcing;
    if (n == SHIM_RAISE) return lua_error(L);
    if (n == SHIM_YIELD) return lua_yield(L, 0);
    if (enforcing && budget->memory_limit > 0 && budget->memory_used > budget->memory_limit) {
        budget->memory_hit = 1;
        return luaL_error(L, "memory limit reached");
    }
    return n;
}

void shim_push_hostfn(lua_State *L, shim_hostfn fn, void *context) {
    lua_pushlightuserdata(L, (void *)fn);
    lua_pushlightuserdata(L, context);
    lua_pushcclosure(L, trampoline, 2);
}

// MARK: Running

int shim_resume(lua_State *co, lua_State *from, int nargs, int *nresults) {
    return lua_resume(co, from, nargs, nresults);
}

static int traceback_handler(lua_State *L) {
    const char *message = lua_tostring(L, 1);
    if (message == NULL) message = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, message, 1);
    return 1;
}

int shim_pcall_traceback(lua_State *L, int nargs, int nresults) {
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, traceback_handler);
    lua_insert(L, base);
    int status = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    return status;
}

int shim_load_text(lua_State *L, const char *source, size_t length, const char *chunkname) {
    return luaL_loadbufferx(L, source, length, chunkname, "t");
}

// Host-side work, unprotected: the cap must not refuse it (a run that hit the cap still
// holds its memory until the coroutine is reset, and a refusal here would be an error
// outside any protected call: a panic).
void shim_traceback(lua_State *L, lua_State *co, const char *message) {
    shim_budget *budget = shim_budget_of(L);
    int enforcing = budget->enforcing_memory;
    budget->enforcing_memory = 0;
    luaL_traceback(L, co, message, 0);
    budget->enforcing_memory = enforcing;
}

int shim_test_block_in_c(lua_State *L) {
    double seconds = luaL_checknumber(L, 1);
    record_caller(L);
    int64_t until = shim_now_ns() + (int64_t)(seconds * 1e9);
    volatile uint64_t spins = 0;
    while (shim_now_ns() < until) spins++;
    return 0;
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
