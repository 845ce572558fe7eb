package io.layerswarm.testing;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Optional;

/**
 * The contract every wire decoder's fuzz test checks: on any input the decoder either returns a value or
 * throws one of its documented exception types with a message, and it allocates no more than a bound
 * (so a length field cannot make it reserve memory the input never backs). Anything else — a
 * {@code NullPointerException}, {@code ClassCastException}, {@code IndexOutOfBoundsException},
 * {@code OutOfMemoryError}, an undocumented checked exception, a silent exception — fails the test with
 * the original throwable, which Jazzer reports as a finding.
 */
public final class DecoderContract {

    /** A decoding step that may throw anything. */
    @FunctionalInterface
    public interface Decoding<T> {
        /** Runs the decoder. */
        T run() throws Exception;
    }

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private final List<Class<? extends Throwable>> documented;
    private final long maxAllocatedBytes;

    private DecoderContract(List<Class<? extends Throwable>> documented, long maxAllocatedBytes) {
        this.documented = documented;
        this.maxAllocatedBytes = maxAllocatedBytes;
    }

    /**
     * A contract allowing the given exception types (and their subtypes).
     *
     * @param maxAllocatedBytes most heap the calling thread may allocate during one decode
     */
    @SafeVarargs
    public static DecoderContract allowing(long maxAllocatedBytes, Class<? extends Throwable>... documented) {
        return new DecoderContract(List.of(documented), maxAllocatedBytes);
    }

    /**
     * Runs {@code decoding} and checks the contract.
     *
     * @return the decoded value, or empty if the decoder rejected the input with a documented exception
     * @throws AssertionError (or the decoder's own unexpected throwable) if the contract is broken
     */
    public <T> Optional<T> check(Decoding<T> decoding) {
        long before = allocatedBytes();
        Optional<T> result = decode(decoding);
        if (allocatedBytes() - before > maxAllocatedBytes) {
            // The first decode of a run also pays for class loading and static initialisation; a decoder
            // is deterministic, so measure a second run before blaming the input.
            before = allocatedBytes();
            decode(decoding);
            long allocated = allocatedBytes() - before;
            if (allocated > maxAllocatedBytes) {
                throw new AssertionError("decoder allocated " + allocated + " bytes, over its bound of "
                        + maxAllocatedBytes);
            }
        }
        return result;
    }

    private <T> Optional<T> decode(Decoding<T> decoding) {
        try {
            return Optional.ofNullable(decoding.run());
        } catch (Throwable t) {
            if (!isDocumented(t)) {
                rethrow(t);
            }
            if (t.getMessage() == null || t.getMessage().isBlank()) {
                throw new AssertionError("decoder rejected the input without saying why: " + t, t);
            }
            return Optional.empty();
        }
    }

    private static long allocatedBytes() {
        return THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    private boolean isDocumented(Throwable t) {
        for (Class<? extends Throwable> c : documented) {
            if (c.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private static void rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new AssertionError("decoder threw an undocumented " + t.getClass().getName(), t);
    }
}
