// string.rep, string.find, string.match, string.gmatch and string.gsub with Lua 5.4's
// semantics, bounded by the strategy's time budget.
//
// The stock versions loop in C, where the budget hook never runs: `string.rep('', huge)`
// or a backtracking pattern such as ("(.-)"):rep(12) .. "b" on 40 characters would run
// for hours. These count their steps and check the deadline every few thousand
// (`shim_tick`), raising the budget error from this C frame. The matcher is a plain
// backtracking matcher over Lua's pattern language (classes, sets, quantifiers * + - ?,
// anchors, captures and position captures, back references, %b and %f); its results are
// checked against the stock functions in LuaRuntimeTests.
#include "budget_internal.h"

#include <ctype.h>
#include <string.h>

#define MAX_CAPTURES 32
#define MAX_MATCH_DEPTH 200
#define CAP_UNFINISHED (-1)
#define CAP_POSITION (-2)
#define ESCAPE '%'
#define SPECIALS "^$*+?.([%-"

typedef struct matcher {
    const char *src_init;
    const char *src_end;
    const char *p_end;
    lua_State *L;
    shim_ticker ticker;
    int depth;
    int level;
    struct {
        const char *init;
        ptrdiff_t len;
    } capture[MAX_CAPTURES];
} matcher;

static const char *match(matcher *m, const char *s, const char *p);

// A position argument: negative counts from the end; 0 and anything before the start are 1.
static size_t start_position(lua_Integer position, size_t length) {
    if (position > 0) return (size_t)position;
    if (position == 0) return 1;
    if (position < -(lua_Integer)length) return 1;
    return length + (size_t)position + 1;
}

static int capture_to_close(matcher *m) {
    for (int level = m->level - 1; level >= 0; level--) {
        if (m->capture[level].len == CAP_UNFINISHED) return level;
    }
    return luaL_error(m->L, "invalid pattern capture");
}

static int check_capture(matcher *m, int c) {
    int index = c - '1';
    if (index < 0 || index >= m->level || m->capture[index].len == CAP_UNFINISHED) {
        return luaL_error(m->L, "invalid capture index %%%d", index + 1);
    }
    return index;
}

// The end of the single-character class starting at p.
static const char *class_end(matcher *m, const char *p) {
    char c = *p++;
    if (c == ESCAPE) {
        if (p >= m->p_end) luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c == '[') {
        if (p < m->p_end && *p == '^') p++;
        do {  // the first character of a set may be ']'
            if (p >= m->p_end) luaL_error(m->L, "malformed pattern (missing ']')");
            c = *p++;
            if (c == ESCAPE && p < m->p_end) p++;
        } while (p >= m->p_end || *p != ']');
        return p + 1;
    }
    return p;
}

static int matches_class(int c, int class_letter) {
    int result;
    switch (tolower(class_letter)) {
    case 'a': result = isalpha(c); break;
    case 'c': result = iscntrl(c); break;
    case 'd': result = isdigit(c); break;
    case 'g': result = isgraph(c); break;
    case 'l': result = islower(c); break;
    case 'p': result = ispunct(c); break;
    case 's': result = isspace(c); break;
    case 'u': result = isupper(c); break;
    case 'w': result = isalnum(c); break;
    case 'x': result = isxdigit(c); break;
    default: return class_letter == c;
    }
    if (isupper(class_letter)) result = !result;
    return result != 0;
}

// p points at '[', set_end at the closing ']'.
static int matches_set(int c, const char *p, const char *set_end) {
    int wanted = 1;
    if (*(p + 1) == '^') {
        wanted = 0;
        p++;
    }
    while (++p < set_end) {
        if (*p == ESCAPE) {
            p++;
            if (matches_class(c, (unsigned char)*p)) return wanted;
        } else if (*(p + 1) == '-' && p + 2 < set_end) {
            p += 2;
            if ((unsigned char)*(p - 2) <= c && c <= (unsigned char)*p) return wanted;
        } else if ((unsigned char)*p == c) {
            return wanted;
        }
    }
    return !wanted;
}

static int single_match(matcher *m, const char *s, const char *p, const char *ep) {
    if (s >= m->src_end) return 0;
    int c = (unsigned char)*s;
    switch (*p) {
    case '.': return 1;
    case ESCAPE: return matches_class(c, (unsigned char)*(p + 1));
    case '[': return matches_set(c, p, ep - 1);
    default: return (unsigned char)*p == c;
    }
}

static const char *match_balance(matcher *m, const char *s, const char *p) {
    if (p >= m->p_end - 1) luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= m->src_end || *s != *p) return NULL;
    int open = *p, close = *(p + 1), depth = 1;
    while (++s < m->src_end) {
        shim_tick(&m->ticker);
        if (*s == close) {
            if (--depth == 0) return s + 1;
        } else if (*s == open) {
            depth++;
        }
    }
    return NULL;
}

static const char *max_expand(matcher *m, const char *s, const char *p, const char *ep) {
    ptrdiff_t count = 0;
    while (single_match(m, s + count, p, ep)) {
        shim_tick(&m->ticker);
        count++;
    }
    while (count >= 0) {  // try the longest first, giving back one at a time
        const char *result = match(m, s + count, ep + 1);
        if (result != NULL) return result;
        count--;
    }
    return NULL;
}

static const char *min_expand(matcher *m, const char *s, const char *p, const char *ep) {
    for (;;) {
        const char *result = match(m, s, ep + 1);
        if (result != NULL) return result;
        if (!single_match(m, s, p, ep)) return NULL;
        s++;
    }
}

static const char *start_capture(matcher *m, const char *s, const char *p, ptrdiff_t what) {
    if (m->level >= MAX_CAPTURES) luaL_error(m->L, "too many captures");
    m->capture[m->level].init = s;
    m->capture[m->level].len = what;
    m->level++;
    const char *result = match(m, s, p);
    if (result == NULL) m->level--;
    return result;
}

static const char *end_capture(matcher *m, const char *s, const char *p) {
    int level = capture_to_close(m);
    m->capture[level].len = s - m->capture[level].init;
    const char *result = match(m, s, p);
    if (result == NULL) m->capture[level].len = CAP_UNFINISHED;
    return result;
}

static const char *match_back_reference(matcher *m, const char *s, int c) {
    int index = check_capture(m, c);
    size_t length = (size_t)m->capture[index].len;
    shim_tick_by(&m->ticker, 1 + length / 64);
    if ((size_t)(m->src_end - s) >= length && memcmp(m->capture[index].init, s, length) == 0) return s + length;
    return NULL;
}

static const char *match(matcher *m, const char *s, const char *p) {
    if (m->depth-- == 0) luaL_error(m->L, "pattern too complex");
    shim_tick(&m->ticker);
    for (;;) {
        if (p == m->p_end) break;
        if (*p == '(') {
            if (p + 1 < m->p_end && *(p + 1) == ')') {
                s = start_capture(m, s, p + 2, CAP_POSITION);
            } else {
                s = start_capture(m, s, p + 1, CAP_UNFINISHED);
            }
            break;
        }
        if (*p == ')') {
            s = end_capture(m, s, p + 1);
            break;
        }
        if (*p == '$' && p + 1 == m->p_end) {
            if (s != m->src_end) s = NULL;
            break;
        }
        if (*p == ESCAPE && p + 1 < m->p_end) {
            char next = *(p + 1);
            if (next == 'b') {
                s = match_balance(m, s, p + 2);
                if (s != NULL) {
                    p += 4;
                    continue;
                }
                break;
            }
            if (next == 'f') {
                p += 2;
                if (p >= m->p_end || *p != '[') luaL_error(m->L, "missing '[' after '%%f' in pattern");
                const char *ep = class_end(m, p);
                int previous = (s == m->src_init) ? '\0' : (unsigned char)*(s - 1);
                int current = (s < m->src_end) ? (unsigned char)*s : '\0';
                if (!matches_set(previous, p, ep - 1) && matches_set(current, p, ep - 1)) {
                    p = ep;
                    continue;
                }
                s = NULL;
                break;
            }
            if (isdigit((unsigned char)next)) {
                s = match_back_reference(m, s, (unsigned char)next);
                if (s != NULL) {
                    p += 2;
                    continue;
                }
                break;
            }
        }
        // A single-character class, maybe followed by a quantifier.
        const char *ep = class_end(m, p);
        char quantifier = ep < m->p_end ? *ep : '\0';
        if (!single_match(m, s, p, ep)) {
            if (quantifier == '*' || quantifier == '?' || quantifier == '-') {
                p = ep + 1;  // zero repetitions are fine
                continue;
            }
            s = NULL;
            break;
        }
        if (quantifier == '?') {
            const char *result = match(m, s + 1, ep + 1);
            if (result != NULL) {
                s = result;
                break;
            }
            p = ep + 1;
            continue;
        }
        if (quantifier == '+') {
            s = max_expand(m, s + 1, p, ep);
            break;
        }
        if (quantifier == '*') {
            s = max_expand(m, s, p, ep);
            break;
        }
        if (quantifier == '-') {
            s = min_expand(m, s, p, ep);
            break;
        }
        s++;
        p = ep;
    }
    m->depth++;
    return s;
}

// MARK: Captures

// Pushes capture i (or the whole match when there are none); returns its length, or
// CAP_POSITION when it pushed a position.
static ptrdiff_t get_capture(matcher *m, int i, const char *s, const char *e, const char **start) {
    if (i >= m->level) {
        if (i != 0) luaL_error(m->L, "invalid capture index %%%d", i + 1);
        *start = s;
        return e - s;
    }
    ptrdiff_t length = m->capture[i].len;
    *start = m->capture[i].init;
    if (length == CAP_UNFINISHED) luaL_error(m->L, "unfinished capture");
    if (length == CAP_POSITION) lua_pushinteger(m->L, (m->capture[i].init - m->src_init) + 1);
    return length;
}

static void push_capture(matcher *m, int i, const char *s, const char *e) {
    const char *start;
    ptrdiff_t length = get_capture(m, i, s, e, &start);
    if (length != CAP_POSITION) lua_pushlstring(m->L, start, (size_t)length);
}

static int push_captures(matcher *m, const char *s, const char *e) {
    int count = (m->level == 0 && s != NULL) ? 1 : m->level;
    luaL_checkstack(m->L, count, "too many captures");
    for (int i = 0; i < count; i++) push_capture(m, i, s, e);
    return count;
}

static void prepare(matcher *m, lua_State *L, const char *s, size_t ls, const char *p, size_t lp) {
    m->L = L;
    m->ticker.L = L;
    m->ticker.steps = 0;
    m->src_init = s;
    m->src_end = s + ls;
    m->p_end = p + lp;
}

static void reprepare(matcher *m) {
    m->level = 0;
    m->depth = MAX_MATCH_DEPTH;
}

static int has_specials(const char *p, size_t length) {
    size_t offset = 0;
    do {  // strpbrk stops at a zero byte: look past each one
        if (strpbrk(p + offset, SPECIALS)) return 1;
        offset += strlen(p + offset) + 1;
    } while (offset <= length);
    return 0;
}

// A plain substring search (string.find with plain = true, or a pattern without specials).
static const char *find_plain(lua_State *L, const char *s, size_t ls, const char *p, size_t lp) {
    if (lp == 0) return s;
    if (lp > ls) return NULL;
    shim_ticker ticker = {L, 0};
    const char *first = p;
    p++;
    lp--;
    size_t remaining = ls - lp;
    const char *candidate;
    while (remaining > 0 && (candidate = memchr(s, *first, remaining)) != NULL) {
        shim_tick_by(&ticker, 1 + lp / 64);
        candidate++;
        if (memcmp(candidate, p, lp) == 0) return candidate - 1;
        remaining -= (size_t)(candidate - s);
        s = candidate;
    }
    return NULL;
}

static int find_or_match(lua_State *L, int find) {
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_position(luaL_optinteger(L, 3, 1), ls) - 1;
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
        const char *found = find_plain(L, s + init, ls - init, p, lp);
        if (found != NULL) {
            lua_pushinteger(L, (found - s) + 1);
            lua_pushinteger(L, (lua_Integer)((found - s) + lp));
            return 2;
        }
    } else {
        matcher m;
        const char *start = s + init;
        int anchored = (*p == '^');
        if (anchored) {
            p++;
            lp--;
        }
        prepare(&m, L, s, ls, p, lp);
        do {
            reprepare(&m);
            const char *end = match(&m, start, p);
            if (end != NULL) {
                if (find) {
                    lua_pushinteger(L, (start - s) + 1);
                    lua_pushinteger(L, end - s);
                    return push_captures(&m, NULL, 0) + 2;
                }
                return push_captures(&m, start, end);
            }
        } while (start++ < m.src_end && !anchored);
    }
    luaL_pushfail(L);
    return 1;
}

static int budgeted_find(lua_State *L) { return find_or_match(L, 1); }
static int budgeted_match(lua_State *L) { return find_or_match(L, 0); }

// MARK: gmatch

typedef struct gmatch_state {
    const char *src;
    const char *p;
    const char *last_match;
    matcher m;
} gmatch_state;

static int gmatch_next(lua_State *L) {
    gmatch_state *state = (gmatch_state *)lua_touserdata(L, lua_upvalueindex(3));
    state->m.L = L;  // the iterator may be called from another coroutine than gmatch was
    state->m.ticker.L = L;
    for (const char *src = state->src; src <= state->m.src_end; src++) {
        reprepare(&state->m);
        const char *end = match(&state->m, src, state->p);
        if (end != NULL && end != state->last_match) {
            state->src = state->last_match = end;
            return push_captures(&state->m, src, end);
        }
    }
    return 0;
}

static int budgeted_gmatch(lua_State *L) {
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_position(luaL_optinteger(L, 3, 1), ls) - 1;
    lua_settop(L, 2);  // the string and the pattern stay alive as upvalues
    gmatch_state *state = (gmatch_state *)lua_newuserdatauv(L, sizeof(gmatch_state), 0);
    if (init > ls) init = ls + 1;  // starts after the end: no match
    prepare(&state->m, L, s, ls, p, lp);
    state->src = s + init;
    state->p = p;
    state->last_match = NULL;
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

// MARK: gsub

static void add_replacement_string(matcher *m, luaL_Buffer *b, const char *s, const char *e) {
    lua_State *L = m->L;
    size_t length;
    const char *text = lua_tolstring(L, 3, &length);
    const char *escape;
    while ((escape = memchr(text, ESCAPE, length)) != NULL) {
        luaL_addlstring(b, text, (size_t)(escape - text));
        escape++;
        if (*escape == ESCAPE) {
            luaL_addchar(b, *escape);
        } else if (*escape == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (isdigit((unsigned char)*escape)) {
            const char *start;
            ptrdiff_t captured = get_capture(m, *escape - '1', s, e, &start);
            if (captured == CAP_POSITION) {
                luaL_addvalue(b);
            } else {
                luaL_addlstring(b, start, (size_t)captured);
            }
        } else {
            luaL_error(L, "invalid use of '%c' in replacement string", ESCAPE);
        }
        length -= (size_t)(escape + 1 - text);
        text = escape + 1;
    }
    luaL_addlstring(b, text, length);
}

// Appends the replacement of the match s..e; returns whether anything changed.
static int add_replacement(matcher *m, luaL_Buffer *b, const char *s, const char *e, int replacement_type) {
    lua_State *L = m->L;
    if (replacement_type == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int count = push_captures(m, s, e);
        lua_call(L, count, 1);
    } else if (replacement_type == LUA_TTABLE) {
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
    } else {
        add_replacement_string(m, b, s, e);
        return 1;
    }
    if (!lua_toboolean(L, -1)) {  // nil or false: keep the original text
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return 0;
    }
    if (!lua_isstring(L, -1)) return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return 1;
}

static int budgeted_gsub(lua_State *L) {
    size_t ls, lp;
    const char *src = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    const char *last_match = NULL;
    int replacement_type = lua_type(L, 3);
    lua_Integer max_replacements = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    int anchored = (*p == '^');
    lua_Integer count = 0;
    int changed = 0;
    matcher m;
    luaL_Buffer b;
    luaL_argexpected(L, replacement_type == LUA_TNUMBER || replacement_type == LUA_TSTRING || replacement_type == LUA_TFUNCTION ||
                            replacement_type == LUA_TTABLE,
                     3, "string/function/table");
    luaL_buffinit(L, &b);
    if (anchored) {
        p++;
        lp--;
    }
    prepare(&m, L, src, ls, p, lp);
    while (count < max_replacements) {
        reprepare(&m);
        const char *end = match(&m, src, p);
        if (end != NULL && end != last_match) {
            count++;
            changed = add_replacement(&m, &b, src, end, replacement_type) | changed;
            src = last_match = end;
        } else if (src < m.src_end) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchored) break;
    }
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, src, (size_t)(m.src_end - src));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, count);
    return 2;
}

// MARK: rep

static int budgeted_rep(lua_State *L) {
    size_t l, lsep;
    const char *s = luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    const char *sep = luaL_optlstring(L, 3, "", &lsep);
    if (n <= 0 || (l == 0 && (lsep == 0 || n == 1))) {
        lua_pushliteral(L, "");  // nothing to repeat: no loop at all
        return 1;
    }
    if (l + lsep < l || l + lsep > (size_t)LUA_MAXINTEGER / (size_t)n) {
        return luaL_error(L, "resulting string too large");
    }
    size_t total = (size_t)n * l + (size_t)(n - 1) * lsep;
    shim_budget *budget = shim_budget_of(L);
    if (budget != NULL && budget->enforcing_memory && budget->memory_limit > 0 &&
        total > budget->memory_limit - (budget->memory_used < budget->memory_limit ? budget->memory_used : budget->memory_limit)) {
        budget->memory_hit = 1;
        return luaL_error(L, "string.rep: the result (%I bytes) would exceed the strategy's memory limit", (lua_Integer)total);
    }
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, total);
    // One copy of `s` and `sep`, then the filled part doubles: log2(n) copies, not n.
    memcpy(out, s, l);
    size_t filled = l;
    if (n > 1) {
        memcpy(out + l, sep, lsep);
        filled += lsep;
    }
    while (filled < total) {
        size_t chunk = filled < total - filled ? filled : total - filled;
        memcpy(out + filled, out, chunk);
        filled += chunk;
        shim_check_budget(L);
    }
    luaL_pushresultsize(&b, total);
    return 1;
}

void shim_open_budgeted_string(lua_State *L, int string_table) {
    static const luaL_Reg functions[] = {
        {"rep", budgeted_rep},   {"find", budgeted_find}, {"match", budgeted_match},
        {"gmatch", budgeted_gmatch}, {"gsub", budgeted_gsub}, {NULL, NULL},
    };
    for (const luaL_Reg *f = functions; f->name != NULL; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, string_table, f->name);
    }
}
