package io.layerswarm.nat.netns;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A {@link NatNodeProcess} JVM in a network namespace, driven over stdin, its stdout lines queued. */
final class NatNode implements AutoCloseable {
    final Process process;
    final PrintWriter stdin;
    final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    final Path log;
    final String addr;

    /** Starts {@link NatNodeProcess} {@code role ip extra...} in {@code ns}, stderr to {@code dir/ns.log}. */
    NatNode(Path dir, String ns, String role, String ip, List<String> extra) throws Exception {
        log = dir.resolve(ns + ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns, java));
        // the QUIC transport's benchmark knobs (-Dlayerswarm.quic.*) reach the nodes
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("layerswarm.quic.")).sorted()
                .forEach(k -> cmd.add("-D" + k + "=" + System.getProperty(k)));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), NatNodeProcess.class.getName(), role, ip));
        cmd.addAll(extra);
        process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        stdin = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Thread t = new Thread(() -> {
            try {
                for (String l; (l = r.readLine()) != null; ) {
                    lines.add(l);
                }
            } catch (IOException ignored) {
                // process ended
            }
        });
        t.setDaemon(true);
        t.start();
        try {
            addr = expect("addr ", Duration.ofSeconds(180));
        } catch (Exception | Error e) {
            process.destroyForcibly(); // not started in time: nothing else would stop it
            throw e;
        }
    }

    String peerId() {
        return addr.substring(addr.lastIndexOf('/') + 1);
    }

    String ask(String command, String answer, Duration timeout) throws Exception {
        stdin.println(command);
        return expect(answer, timeout);
    }

    /** {@link #ask}, answered by a line starting like the command's first word, for polling in a condition. */
    String query(String command) {
        try {
            return command.split(" ")[0] + " " + ask(command, command.split(" ")[0] + " ", Duration.ofSeconds(30));
        } catch (Exception e) {
            throw new IllegalStateException(command + ": " + e.getMessage(), e);
        }
    }

    /** The next line starting with {@code prefix}, skipping others (logging set-up noise); fails on "error". */
    String expect(String prefix, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String l = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (l == null || l.startsWith("error ")) {
                throw new AssertionError("expected '" + prefix + "…', got " + l + "; log:\n" + tail());
            }
            if (l.startsWith(prefix)) {
                return l.substring(prefix.length());
            }
        }
    }

    boolean logContains(String text) {
        try {
            return Files.readString(log).contains(text);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    String tail() throws IOException {
        List<String> all = Files.readAllLines(log);
        return String.join("\n", all.subList(Math.max(0, all.size() - 40), all.size()));
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
