package io.layerswarm.node;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Samples this JVM's used heap, direct buffers and live threads every 50 ms and keeps the maxima: a
 * measurement for the figures, never a synchronisation.
 */
final class ResourceSampler implements AutoCloseable {
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "resource-sampler");
        t.setDaemon(true);
        return t;
    });
    private final BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
            .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
    private volatile long maxHeap;
    private volatile long maxDirect;
    private volatile int maxThreads;

    ResourceSampler() {
        timer.scheduleAtFixedRate(this::sample, 0, 50, TimeUnit.MILLISECONDS);
    }

    private void sample() {
        maxHeap = Math.max(maxHeap, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        maxDirect = Math.max(maxDirect, direct.getMemoryUsed()
                + Math.max(0, io.netty.util.internal.PlatformDependent.usedDirectMemory()));
        maxThreads = Math.max(maxThreads, ManagementFactory.getThreadMXBean().getThreadCount());
    }

    /** The maxima so far, as {@code max_heap_mib=.. max_direct_mib=.. max_threads=..}. */
    String maxima() {
        sample();
        return "max_heap_mib=" + (maxHeap >> 20) + " max_direct_mib=" + (maxDirect >> 20) + " max_threads=" + maxThreads;
    }

    int maxThreads() {
        sample();
        return maxThreads;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
