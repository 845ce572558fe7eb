package io.layerswarm.nat.punch;

import io.layerswarm.libp2p.host.P2pStream;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Deadlines of a hole-punching session's blocking steps (ICE, DCUtR): a peer that stops answering, or a dial
 * that hangs, ends the session with an {@link IOException} naming the step instead of holding a thread.
 */
public final class Deadlines {
    private Deadlines() {
    }

    /** Resets {@code s} once {@code deadline} has passed, which ends any read blocked on it. */
    public static void resetAfter(P2pStream s, Duration deadline) {
        s.channel().eventLoop().schedule(s::reset, deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Waits for {@code f} at most {@code deadline}.
     *
     * @param what the step, for the exception's message ("the ICE checks")
     * @throws IOException the future's own {@code IOException}, or one saying that {@code what} failed or timed out
     */
    public static <T> T await(CompletableFuture<T> f, String what, Duration deadline) throws IOException {
        try {
            return f.get(deadline.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof IOException io ? io : new IOException(what + " failed: " + c, c);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new IOException(what + " timed out after " + deadline);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for " + what, e);
        }
    }
}
