// The parts of the sandbox that must be C functions: they check their arguments and call
// the stock function, or refuse, and a refusal is a Lua error raised from a C frame.
#include "budget_internal.h"

// Registry key of the weak set of coroutines the host runs handlers in.
static const char host_threads_key = 'h';

void shim_mark_host_thread(lua_State *L, lua_State *co) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &host_threads_key);
    lua_pushthread(co);
    lua_xmove(co, L, 1);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

static int is_host_thread(lua_State *L, int index) {
    if (lua_type(L, index) != LUA_TTHREAD) return 0;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &host_threads_key);
    lua_pushvalue(L, index);
    lua_rawget(L, -2);
    int marked = lua_toboolean(L, -1);
    lua_pop(L, 2);
    return marked;
}

// coroutine.resume / coroutine.close: a handler's own coroutine belongs to the host (it may
// be waiting for TWS); resuming or closing it from Lua would corrupt that wait.
static int guarded_coroutine_call(lua_State *L) {
    if (is_host_thread(L, 1)) {
        return luaL_error(L, "%s: this is the coroutine of a handler, which the host runs; only coroutines the strategy created can be resumed or closed",
                          lua_tostring(L, lua_upvalueindex(2)));
    }
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

// setmetatable refuses __gc: finalizers run with hooks off, outside any time budget.
static int safe_setmetatable(lua_State *L) {
    int type = lua_type(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argexpected(L, type == LUA_TNIL || type == LUA_TTABLE, 2, "nil or table");
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) return luaL_error(L, "cannot change a protected metatable");
    if (type == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        int gc = lua_rawget(L, 2);
        lua_pop(L, 1);
        if (gc != LUA_TNIL) {
            return luaL_error(L, "setmetatable: __gc metamethods are not available to strategies (finalizers would run outside the time budget)");
        }
    }
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

// getmetatable of a table only: the string metatable (whose __index is the shared string
// library) stays out of reach.
static int safe_getmetatable(lua_State *L) {
    luaL_checkany(L, 1);
    if (lua_type(L, 1) != LUA_TTABLE || !lua_getmetatable(L, 1)) {
        lua_pushnil(L);
        return 1;
    }
    luaL_getmetafield(L, 1, "__metatable");
    return 1;
}

// coroutine.create / coroutine.wrap: the coroutine is made with the count hook (a new
// coroutine takes its maker's hook), since the arming signal arms only the run's own state
// (budget_internal.h). Its maker's hook is put back as it was.
static int hooked_coroutine_make(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    int lent = shim_arming_by_signal() && lua_gethookmask(L) == 0;
    if (lent) lua_sethook(L, shim_budget_hook, LUA_MASKCOUNT, SHIM_HOOK_STEP);
    lua_settop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 1, 1);
    // Unless a signal armed it meanwhile (count 1) or the run expired: those stay. A signal
    // that came while the hook was lent found one set and did nothing: a deadline passed
    // meanwhile arms it here, or a loop of `create` (its time in collections at a full heap,
    // inside this window) would lose every signal.
    if (lent && lua_gethookmask(L) == LUA_MASKCOUNT && lua_gethookcount(L) == SHIM_HOOK_STEP) {
        shim_budget *budget = shim_budget_of(L);
        if (budget != NULL && shim_budget_deadline_passed(budget)) lua_sethook(L, shim_budget_hook, LUA_MASKCOUNT, 1);
        else lua_sethook(L, NULL, 0, 0);
    }
    return 1;
}

static void hook_coroutine_maker(lua_State *L, int coroutine_table, const char *name) {
    lua_getfield(L, coroutine_table, name);
    lua_pushcclosure(L, hooked_coroutine_make, 1);
    lua_setfield(L, coroutine_table, name);
}

static void wrap_coroutine_function(lua_State *L, int coroutine_table, const char *name, const char *qualified) {
    lua_getfield(L, coroutine_table, name);
    lua_pushstring(L, qualified);
    lua_pushcclosure(L, guarded_coroutine_call, 2);
    lua_setfield(L, coroutine_table, name);
}

void shim_harden_libs(lua_State *L) {
    // The weak set of host coroutines.
    lua_newtable(L);
    lua_newtable(L);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &host_threads_key);

    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    int globals = lua_gettop(L);
    lua_pushcfunction(L, safe_setmetatable);
    lua_setfield(L, globals, "setmetatable");
    lua_pushcfunction(L, safe_getmetatable);
    lua_setfield(L, globals, "getmetatable");

    lua_getfield(L, globals, LUA_COLIBNAME);
    int coroutine_table = lua_gettop(L);
    wrap_coroutine_function(L, coroutine_table, "resume", "coroutine.resume");
    wrap_coroutine_function(L, coroutine_table, "close", "coroutine.close");
    hook_coroutine_maker(L, coroutine_table, "create");
    hook_coroutine_maker(L, coroutine_table, "wrap");
    lua_pop(L, 1);

    lua_getfield(L, globals, LUA_STRLIBNAME);
    shim_open_budgeted_string(L, lua_gettop(L));
    lua_pop(L, 1);

    lua_getfield(L, globals, LUA_TABLIBNAME);
    shim_open_budgeted_table(L, lua_gettop(L));
    lua_pop(L, 1);

    lua_pop(L, 1);
}
