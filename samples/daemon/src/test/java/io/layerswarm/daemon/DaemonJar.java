package io.layerswarm.daemon;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The shaded {@code target/layerswarm.jar} as the tests launch it: {@link #command} is the one way to build
 * a {@code java ... -jar layerswarm.jar ARGS} command line for a CLI run or a daemon in its own process.
 *
 * <p>Start-up is most of these tests' time (tens of fresh JVMs per module run, each loading classes from
 * a 64 MB jar), so every launch runs with C1 only (half the start-up CPU of tiered compilation for a
 * process that lives seconds) and with a dynamic class-data-sharing archive of the jar's classes,
 * {@code target/layerswarm.jsa}, written once by the first launch after the jar was built (one node
 * started and stopped with {@code -XX:ArchiveClassesAtExit}). CDS messages are switched off: an archive
 * that cannot be used (another JDK, a rebuilt jar) only means no sharing, never a line on stdout.
 */
public final class DaemonJar {
    /** The jar {@code mvn package} builds. */
    public static final Path JAR = Path.of("target/layerswarm.jar").toAbsolutePath();
    private static final Path ARCHIVE = Path.of("target/layerswarm.jsa").toAbsolutePath();
    private static final List<String> JVM_FLAGS = List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-Xlog:cds*=off");

    private DaemonJar() {
    }

    /** {@code java FLAGS -jar layerswarm.jar args...}. */
    public static List<String> command(String... args) {
        return command(List.of(args));
    }

    /** {@code java FLAGS -jar layerswarm.jar args...}. */
    public static List<String> command(List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(java()));
        cmd.addAll(JVM_FLAGS);
        archive().ifPresent(a -> cmd.add("-XX:SharedArchiveFile=" + a));
        cmd.addAll(List.of("-jar", JAR.toString()));
        cmd.addAll(args);
        return cmd;
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * The archive, written first if missing or older than the jar; empty if that fails (the launch then
     * just starts slower). Synchronized: tests that launch in parallel write it once.
     */
    private static synchronized Optional<Path> archive() {
        try {
            if (!Files.isRegularFile(JAR)) {
                return Optional.empty();
            }
            if (Files.isRegularFile(ARCHIVE)
                    && Files.getLastModifiedTime(ARCHIVE).compareTo(Files.getLastModifiedTime(JAR)) > 0) {
                return Optional.of(ARCHIVE);
            }
            Path dir = Files.createDirectories(ARCHIVE.resolveSibling("cds-node"));
            Path tmp = ARCHIVE.resolveSibling("layerswarm.jsa." + ProcessHandle.current().pid());
            List<String> cmd = new ArrayList<>(List.of(java()));
            cmd.addAll(JVM_FLAGS);
            cmd.addAll(List.of("-XX:ArchiveClassesAtExit=" + tmp, "-jar", JAR.toString(), "node", "--listen",
                    "/ip4/127.0.0.1/tcp/0", "--mirror-listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:1",
                    "--cache-dir", dir.resolve("cache").toString(), "--key", dir.resolve("node.key").toString()));
            Process p = new ProcessBuilder(cmd).redirectError(dir.resolve("stderr.log").toFile()).start();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String l;
                while ((l = r.readLine()) != null && !l.startsWith("mirror ")) {
                    // the node is up (and its classes loaded) once it prints its mirror address
                }
            }
            p.destroy(); // SIGTERM: a normal exit, which writes the archive
            if (!p.waitFor(120, TimeUnit.SECONDS) || !Files.isRegularFile(tmp)) {
                p.destroyForcibly();
                Files.deleteIfExists(tmp);
                System.err.println("event=cds_archive_skipped reason=\"no archive written\" log=" + dir);
                return Optional.empty();
            }
            Files.move(tmp, ARCHIVE, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return Optional.of(ARCHIVE);
        } catch (IOException e) {
            System.err.println("event=cds_archive_skipped reason=\"" + e + "\"");
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
