package io.layerswarm.registry;

import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A registry response whose body is still unread. Closing it (or its body stream) releases the
 * client's concurrency permit, so every reply must be closed.
 */
final class Reply implements Closeable {
    private final String method;
    private final URI uri;
    private final int status;
    private final HttpHeaders headers;
    private final InputStream body;
    private final AtomicBoolean released = new AtomicBoolean();
    private final Runnable release;

    Reply(String method, URI uri, int status, HttpHeaders headers, InputStream rawBody, Runnable release) {
        this.method = method;
        this.uri = uri;
        this.status = status;
        this.headers = headers;
        this.release = release;
        this.body = new FilterInputStream(rawBody) {
            @Override
            public void close() throws IOException {
                try {
                    super.close();
                } finally {
                    releaseOnce();
                }
            }
        };
    }

    int status() {
        return status;
    }

    URI uri() {
        return uri;
    }

    String method() {
        return method;
    }

    HttpHeaders headers() {
        return headers;
    }

    Optional<String> header(String name) {
        return headers.firstValue(name);
    }

    /** The body stream; closing it releases the permit. */
    InputStream body() {
        return body;
    }

    /** Reads the whole body, failing if it is longer than {@code limit}, and closes. */
    byte[] bytes(int limit, String what) throws IOException {
        try (InputStream in = body) {
            byte[] data = in.readNBytes(limit + 1);
            if (data.length > limit) {
                throw new RegistryException(what + " from " + uri + " is larger than the limit of " + limit + " bytes",
                        status, java.util.List.of());
            }
            return data;
        }
    }

    /** Builds the exception for an unexpected status: reads (a bounded part of) the body and closes. */
    RegistryException failure(String context) {
        byte[] data = new byte[0];
        try (InputStream in = body) {
            data = in.readNBytes(64 * 1024);
        } catch (IOException ignored) {
            // the status alone still explains the failure
        }
        var errors = RegistryException.parseErrors(data);
        String detail = errors.isEmpty() ? RegistryException.bodySnippet(data)
                : errors.stream().map(RegistryError::toString).reduce((a, b) -> a + "; " + b).orElse("");
        return new RegistryException(context + ": " + method + " " + uri + " returned " + status
                + (detail.isEmpty() ? "" : " (" + detail + ")"), status, errors);
    }

    @Override
    public void close() {
        try {
            body.close();
        } catch (IOException ignored) {
            // nothing to recover
        }
        releaseOnce();
    }

    private void releaseOnce() {
        if (released.compareAndSet(false, true)) {
            release.run();
        }
    }
}
