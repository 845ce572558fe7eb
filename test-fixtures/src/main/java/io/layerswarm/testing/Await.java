package io.layerswarm.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Waits for a condition with a deadline, for tests: the replacement for sleeping and hoping. The
 * condition is re-checked with a short, growing pause (1 ms up to 50 ms) so a fast condition costs
 * almost nothing and a slow one little CPU; on timeout an {@link AssertionError} names what was
 * awaited and, for {@link #until(Duration, String, Supplier, Predicate)}, the last value seen.
 * Deadlines should be generous (tens of seconds): they only bound a hang, they are not timing goals.
 */
public final class Await {
    private static final long MAX_PAUSE_MILLIS = 50;

    private Await() {
    }

    /**
     * Returns once {@code condition} holds.
     *
     * @param timeout how long to wait at most
     * @param description what is awaited, for the failure message ("node b routes node a")
     * @throws AssertionError if the condition does not hold within {@code timeout}
     */
    public static void until(Duration timeout, String description, BooleanSupplier condition)
            throws InterruptedException {
        poll(timeout, description, condition::getAsBoolean, Boolean::booleanValue, false);
    }

    /**
     * Polls {@code value} until {@code accept} holds for it and returns that value.
     *
     * @param timeout how long to wait at most
     * @param description what is awaited, for the failure message
     * @throws AssertionError if no accepted value appears within {@code timeout}; the message has the last value
     */
    public static <T> T until(Duration timeout, String description, Supplier<T> value, Predicate<? super T> accept)
            throws InterruptedException {
        return poll(timeout, description, value, accept, true);
    }

    private static <T> T poll(Duration timeout, String description, Supplier<T> value, Predicate<? super T> accept,
            boolean showValue) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = 1;
        while (true) {
            T v = value.get();
            if (accept.test(v)) {
                return v;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout + " waiting until " + description
                        + (showValue ? " (last value: " + v + ")" : ""));
            }
            Thread.sleep(pause);
            pause = Math.min(MAX_PAUSE_MILLIS, pause * 2);
        }
    }

    /**
     * Whether {@code thread} is parked (waiting, with or without a timeout) inside a method of {@code type},
     * e.g. queued on a {@code Semaphore} or blocked on a {@code CompletableFuture}: lets a test await
     * "the caller is now waiting" instead of sleeping and assuming it.
     */
    public static boolean isBlockedIn(Thread thread, Class<?> type) {
        Thread.State st = thread.getState();
        if (st != Thread.State.WAITING && st != Thread.State.TIMED_WAITING) {
            return false;
        }
        for (StackTraceElement e : thread.getStackTrace()) {
            if (e.getClassName().startsWith(type.getName())) {
                return true;
            }
        }
        return false;
    }
}
