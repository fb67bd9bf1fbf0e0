// table.move, table.sort, table.insert and table.remove bounded by the strategy's time budget.
//
// The stock table.move loops `e - f + 1` times in C (table.move({}, 1, math.maxinteger - 1, 2)
// never returns: moving nils allocates nothing, so not even the memory cap stops it), and
// table.sort without a comparator sorts millions of elements in C without a hook. The stock
// insert and remove shift elements up to the length `__len` reports, which a strategy
// chooses (math.maxinteger: 2^63 steps of moving nils). These check the deadline every few
// thousand steps.
#include "budget_internal.h"

#include <limits.h>

static int budgeted_move(lua_State *L) {
    lua_Integer f = luaL_checkinteger(L, 2);
    lua_Integer e = luaL_checkinteger(L, 3);
    lua_Integer t = luaL_checkinteger(L, 4);
    int destination = !lua_isnoneornil(L, 5) ? 5 : 1;
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, destination, LUA_TTABLE);
    if (e >= f) {
        luaL_argcheck(L, f > 0 || e < LUA_MAXINTEGER + f, 3, "too many elements to move");
        lua_Integer n = e - f + 1;
        luaL_argcheck(L, t <= LUA_MAXINTEGER - n + 1, 4, "destination wrap around");
        shim_ticker ticker = {L, 0};
        if (t > e || t <= f || (destination != 1 && !lua_compare(L, 1, destination, LUA_OPEQ))) {
            for (lua_Integer i = 0; i < n; i++) {
                lua_geti(L, 1, f + i);
                lua_seti(L, destination, t + i);
                shim_tick(&ticker);
            }
        } else {  // overlapping, moving up: copy from the end
            for (lua_Integer i = n - 1; i >= 0; i--) {
                lua_geti(L, 1, f + i);
                lua_seti(L, destination, t + i);
                shim_tick(&ticker);
            }
        }
    }
    lua_pushvalue(L, destination);
    return 1;
}

// t[a] < t[b], by the comparator (argument 2) or by `<`.
static int less_than(lua_State *L, lua_Integer a, lua_Integer b, shim_ticker *ticker) {
    shim_tick(ticker);
    if (lua_isnoneornil(L, 2)) {
        lua_geti(L, 1, a);
        lua_geti(L, 1, b);
        int result = lua_compare(L, -2, -1, LUA_OPLT);
        lua_pop(L, 2);
        return result;
    }
    lua_pushvalue(L, 2);
    lua_geti(L, 1, a);
    lua_geti(L, 1, b);
    lua_call(L, 2, 1);
    int result = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return result;
}

static void swap(lua_State *L, lua_Integer a, lua_Integer b) {
    lua_geti(L, 1, a);
    lua_geti(L, 1, b);
    lua_seti(L, 1, a);
    lua_seti(L, 1, b);
}

static void sift_down(lua_State *L, lua_Integer root, lua_Integer last, shim_ticker *ticker) {
    for (;;) {
        lua_Integer child = 2 * root;
        if (child > last) return;
        if (child + 1 <= last && less_than(L, child, child + 1, ticker)) child++;
        if (!less_than(L, root, child, ticker)) return;
        swap(L, root, child);
        root = child;
    }
}

// Heapsort: O(n log n) whatever the input or comparator (an inconsistent comparator gives
// some order, never an endless loop or an out-of-range access). Like the stock sort, it is
// not stable.
static int budgeted_sort(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 1);
    if (n > 1) {
        luaL_argcheck(L, n < INT_MAX, 1, "array too big");
        if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);
        lua_settop(L, 2);
        shim_ticker ticker = {L, 0};
        for (lua_Integer i = n / 2; i >= 1; i--) sift_down(L, i, n, &ticker);
        for (lua_Integer last = n; last > 1; last--) {
            swap(L, 1, last);
            sift_down(L, 1, last - 1, &ticker);
        }
    }
    return 0;
}

// As Lua 5.4's ltablib.c: `arg` must be a table, or have a metatable with the metamethods
// the operation needs (TAB_R: __index, TAB_W: __newindex, TAB_L: __len).
#define TAB_R 1
#define TAB_W 2
#define TAB_L 4
#define TAB_RW (TAB_R | TAB_W)

static int has_field(lua_State *L, const char *key, int n) {
    lua_pushstring(L, key);
    return lua_rawget(L, -n) != LUA_TNIL;
}

static void check_table(lua_State *L, int arg, int what) {
    if (lua_type(L, arg) != LUA_TTABLE) {
        int n = 1;
        if (lua_getmetatable(L, arg) && (!(what & TAB_R) || has_field(L, "__index", ++n)) &&
            (!(what & TAB_W) || has_field(L, "__newindex", ++n)) && (!(what & TAB_L) || has_field(L, "__len", ++n))) {
            lua_pop(L, n);
        } else {
            luaL_checktype(L, arg, LUA_TTABLE);  // raises
        }
    }
}

static lua_Integer length_of(lua_State *L, int arg, int what) {
    check_table(L, arg, what | TAB_L);
    return luaL_len(L, arg);
}

// table.insert(t, [pos,] v): Lua 5.4's tinsert, with the shift up bounded.
static int budgeted_insert(lua_State *L) {
    lua_Integer pos;
    lua_Integer e = length_of(L, 1, TAB_RW);
    e = luaL_intop(+, e, 1);  // first empty element
    switch (lua_gettop(L)) {
        case 2:
            pos = e;
            break;
        case 3: {
            pos = luaL_checkinteger(L, 2);
            // pos in [1, e]
            luaL_argcheck(L, (lua_Unsigned)pos - 1u < (lua_Unsigned)e, 2, "position out of bounds");
            shim_ticker ticker = {L, 0};
            for (lua_Integer i = e; i > pos; i--) {
                lua_geti(L, 1, i - 1);
                lua_seti(L, 1, i);
                shim_tick(&ticker);
            }
            break;
        }
        default:
            return luaL_error(L, "wrong number of arguments to 'insert'");
    }
    lua_seti(L, 1, pos);
    return 0;
}

// table.remove(t [, pos]): Lua 5.4's tremove, with the shift down bounded.
static int budgeted_remove(lua_State *L) {
    lua_Integer size = length_of(L, 1, TAB_RW);
    lua_Integer pos = luaL_optinteger(L, 2, size);
    if (pos != size) {
        // pos in [1, size + 1]; Lua 5.4 names argument 1 here, and so do we (same messages).
        luaL_argcheck(L, (lua_Unsigned)pos - 1u <= (lua_Unsigned)size, 1, "position out of bounds");
    }
    lua_geti(L, 1, pos);
    shim_ticker ticker = {L, 0};
    for (; pos < size; pos++) {
        lua_geti(L, 1, pos + 1);
        lua_seti(L, 1, pos);
        shim_tick(&ticker);
    }
    lua_pushnil(L);
    lua_seti(L, 1, pos);
    return 1;
}

void shim_open_budgeted_table(lua_State *L, int table_table) {
    lua_pushcfunction(L, budgeted_move);
    lua_setfield(L, table_table, "move");
    lua_pushcfunction(L, budgeted_sort);
    lua_setfield(L, table_table, "sort");
    lua_pushcfunction(L, budgeted_insert);
    lua_setfield(L, table_table, "insert");
    lua_pushcfunction(L, budgeted_remove);
    lua_setfield(L, table_table, "remove");
}
