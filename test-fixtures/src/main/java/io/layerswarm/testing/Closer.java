package io.layerswarm.testing;

import java.util.ArrayList;
import java.util.List;

/**
 * What a test opened (nodes, hosts, registries, thread pools), closed in reverse order of opening from
 * its {@code @AfterEach}, so later parts stop before the parts they use.
 */
public final class Closer implements AutoCloseable {
    private final List<AutoCloseable> open = new ArrayList<>();

    /** Remembers {@code c} for {@link #close()} and returns it. */
    public synchronized <T extends AutoCloseable> T add(T c) {
        open.add(c);
        return c;
    }

    /** Closes everything added, last first; the first failure is thrown once all were tried. */
    @Override
    public synchronized void close() throws Exception {
        Exception first = null;
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        open.clear();
        if (first != null) {
            throw first;
        }
    }
}
