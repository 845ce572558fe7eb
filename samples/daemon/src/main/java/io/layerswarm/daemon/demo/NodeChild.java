package io.layerswarm.daemon.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A node running as a child JVM (started with this JVM's class path) and its line protocol: lines
 * go in on its stdin and come out of its stdout; its stderr (the node's log) is inherited. The child
 * can be ended the way nodes die in a cluster: {@link #kill} (SIGKILL: the kernel closes its sockets,
 * peers see a reset at once) or {@link #freeze} (SIGSTOP: the sockets stay open and answer nothing,
 * like a host that vanished from the network).
 */
public final class NodeChild implements AutoCloseable {
    private final String name;
    private final Process process;
    private final PrintWriter in;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    /** When the last line arrived: lines are read by one thread per child, so this is its arrival time. */
    private volatile long lastLineNanos;
    private volatile boolean frozen;

    private NodeChild(String name, Process process) {
        this.name = name;
        this.process = process;
        this.in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Thread t = new Thread(() -> {
            try {
                String line;
                while ((line = out.readLine()) != null) {
                    lastLineNanos = System.nanoTime();
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("error " + e);
            }
            lines.add("error process ended");
        }, "node-child-" + name);
        t.setDaemon(true);
        t.start();
    }

    /**
     * Starts {@code mainClass} with {@code args} in a new JVM on this JVM's class path; its stderr is
     * inherited.
     */
    public static NodeChild launch(String name, Class<?> mainClass, String... args) throws IOException {
        return launch(name, null, mainClass, args);
    }

    /** Like {@link #launch(String, Class, String...)}, with the child's stderr appended to {@code log} unless null. */
    public static NodeChild launch(String name, Path log, Class<?> mainClass, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), mainClass.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(log == null ? ProcessBuilder.Redirect.INHERIT
                : ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        return new NodeChild(name, p);
    }

    /** The child's name (for messages). */
    public String name() {
        return name;
    }

    /** When its last line arrived ({@link System#nanoTime()}). */
    public long lastLineNanos() {
        return lastLineNanos;
    }

    /** Sends one line. */
    public void send(String line) {
        in.println(line);
    }

    /** Waits (up to 10 minutes) for the next line, which must start with {@code prefix}. */
    public String expect(String prefix) throws IOException, InterruptedException {
        String line = lines.poll(10, TimeUnit.MINUTES);
        if (line == null || !line.startsWith(prefix)) {
            throw new IOException(name + " said " + line + " instead of " + prefix.trim() + " (its log is on stderr)");
        }
        return line;
    }

    /** SIGKILL: the process dies, the kernel resets its connections. */
    public void kill() {
        process.destroyForcibly();
    }

    /** SIGSTOP: the process stops but keeps its sockets open; nothing answers on them any more. */
    public void freeze() throws IOException, InterruptedException {
        Process stop = new ProcessBuilder("kill", "-STOP", String.valueOf(process.pid())).inheritIO().start();
        if (stop.waitFor() != 0) {
            throw new IOException("kill -STOP " + process.pid() + " failed");
        }
        frozen = true;
    }

    /** Ends input and waits up to 20 s for the child to exit, then kills it (a frozen one at once). */
    @Override
    public void close() throws InterruptedException {
        in.close();
        if (frozen || !process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(20, TimeUnit.SECONDS);
        }
    }
}
