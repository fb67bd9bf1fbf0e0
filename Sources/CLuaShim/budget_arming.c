// Arms the budget hook of a run whose deadline has passed (budget_internal.h says why):
// one thread of the host watches the deadlines of the runs in progress and signals the
// thread of a late one; the signal handler, on that thread, sets the count hook on the run's
// state. A run that ends in time never had a hook set, so its Lua code ran at full speed.
#define _GNU_SOURCE
#include "budget_internal.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SHIM_UNDER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define SHIM_UNDER_TSAN 1
#endif

// SIGURG: ignored by default (a stray one, or one that comes before the handler is set,
// does nothing), and used by nothing else in the host (it sets no socket owner).
#define ARMING_SIGNAL SIGURG
// How often the arming thread looks at the deadlines: every 2 ms while a run is in progress
// (a late run is stopped within that of its deadline; the default budget is 50 ms), every
// 10 ms while none is (an idle process: 100 wake-ups a second, not 500). A run that begins
// in a long tick is seen at its end, so a budget under 10 ms may be overrun by up to that.
#define ARMING_TICK_NS (2 * 1000 * 1000)
#define ARMING_IDLE_TICK_NS (10 * 1000 * 1000)
// A run still going this long after its signal is signalled again: the signal may have
// come while a nested run was innermost (which then ended), or while the run was in a host
// call (whose hook change the run's end undid).
#define ARMING_REPEAT_NS (20 * 1000 * 1000)

#ifdef SHIM_UNDER_TSAN
static int by_signal = 0;
#else
static int by_signal = 1;  // 0 when the signal or the thread could not be set up
#endif

int shim_arming_by_signal(void) { return by_signal; }

// The budget whose outermost run is on this thread. Volatile: the signal handler reads it
// on the thread it interrupts, at any instruction.
static _Thread_local shim_budget *volatile current_run;

// This thread's kernel id, 0 until its first run; that run also lets the signal in
// (libdispatch's threads, where Swift's tasks run, start with every signal blocked). Once per
// thread: no system call on the path of every run.
static _Thread_local pid_t this_thread;

shim_budget *shim_arming_begin(shim_budget *budget) {
    if (this_thread == 0) {
        this_thread = (pid_t)syscall(SYS_gettid);
        if (by_signal) {
            sigset_t arming;
            sigemptyset(&arming);
            sigaddset(&arming, ARMING_SIGNAL);
            pthread_sigmask(SIG_UNBLOCK, &arming, NULL);
        }
    }
    shim_budget *previous = current_run;
    atomic_store_explicit(&budget->thread_id, (int64_t)this_thread, memory_order_relaxed);
    current_run = budget;
    return previous;
}

void shim_arming_end(shim_budget *previous) { current_run = previous; }

// On the thread of the late run. Only reads this thread's own state and calls lua_sethook,
// which Lua documents as safe in a signal handler (lua.c stops a script on Ctrl-C this way).
// A state already hooked is left alone: an expired run's every-line hook must stay.
static void arm_on_signal(int signal_number) {
    (void)signal_number;
    int saved_errno = errno;
    shim_budget *budget = current_run;
    if (budget != NULL && budget->depth > 0) {
        lua_State *L = budget->armed_L;
        if (L != NULL && lua_gethookmask(L) == 0) lua_sethook(L, shim_budget_hook, LUA_MASKCOUNT, 1);
    }
    errno = saved_errno;
}

// The budgets that exist, a doubly linked list under `registry_lock`. The arming thread
// holds the lock while it reads a budget, so a budget unregistered is never read again.
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static shim_budget *registry_head;
static pthread_once_t arming_once = PTHREAD_ONCE_INIT;

// Returns whether a run with a deadline is in progress.
static int signal_late_runs(int64_t now) {
    pid_t process = getpid();
    int running = 0;
    pthread_mutex_lock(&registry_lock);
    for (shim_budget *budget = registry_head; budget != NULL; budget = budget->registry_next) {
        int64_t since = atomic_load_explicit(&budget->running_since_ns, memory_order_relaxed);
        int64_t deadline = atomic_load_explicit(&budget->deadline_ns, memory_order_relaxed);
        if (since == 0 || deadline == 0) continue;
        running = 1;
        if (now <= deadline) continue;
        if (budget->signalled_run == since && now - budget->signalled_at_ns < ARMING_REPEAT_NS) continue;
        budget->signalled_run = since;
        budget->signalled_at_ns = now;
        int64_t thread = atomic_load_explicit(&budget->thread_id, memory_order_relaxed);
        // tgkill, not pthread_kill: a thread that ended meanwhile is a plain ESRCH, never a
        // freed pthread_t. A signal that reaches a thread no longer in that run does nothing.
        if (thread > 0) syscall(SYS_tgkill, process, (pid_t)thread, ARMING_SIGNAL);
    }
    pthread_mutex_unlock(&registry_lock);
    return running;
}

static void *arming_thread(void *unused) {
    (void)unused;
    int running = 0;
    for (;;) {
        struct timespec tick = {0, running ? ARMING_TICK_NS : ARMING_IDLE_TICK_NS};
        nanosleep(&tick, NULL);
        running = signal_late_runs(shim_now_ns());
    }
    return NULL;
}

// Without the signal or the thread, every run sets its count hook at its start (slower, as
// safe): `by_signal` is read by a run only after the first budget's registration set it.
static void start_arming(void) {
    struct sigaction action = {0};
    action.sa_handler = arm_on_signal;
    action.sa_flags = SA_RESTART;  // a system call the signal interrupts goes on
    sigemptyset(&action.sa_mask);
    if (sigaction(ARMING_SIGNAL, &action, NULL) != 0) {
        by_signal = 0;
        return;
    }
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    // The thread must not take the signal itself: it is blocked there before it starts.
    sigset_t blocked, previous;
    sigemptyset(&blocked);
    sigaddset(&blocked, ARMING_SIGNAL);
    pthread_sigmask(SIG_BLOCK, &blocked, &previous);
    pthread_t thread;
    int failed = pthread_create(&thread, &attributes, arming_thread, NULL);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    pthread_attr_destroy(&attributes);
    if (failed != 0) by_signal = 0;
}

void shim_arming_register(shim_budget *budget) {
    if (!shim_arming_by_signal()) return;
    pthread_once(&arming_once, start_arming);
    pthread_mutex_lock(&registry_lock);
    budget->registry_prev = NULL;
    budget->registry_next = registry_head;
    if (registry_head != NULL) registry_head->registry_prev = budget;
    registry_head = budget;
    pthread_mutex_unlock(&registry_lock);
}

void shim_arming_unregister(shim_budget *budget) {
    if (!shim_arming_by_signal()) return;
    pthread_mutex_lock(&registry_lock);
    if (budget->registry_prev != NULL) budget->registry_prev->registry_next = budget->registry_next;
    else if (registry_head == budget) registry_head = budget->registry_next;
    if (budget->registry_next != NULL) budget->registry_next->registry_prev = budget->registry_prev;
    budget->registry_next = budget->registry_prev = NULL;
    pthread_mutex_unlock(&registry_lock);
    if (current_run == budget) current_run = NULL;
}
