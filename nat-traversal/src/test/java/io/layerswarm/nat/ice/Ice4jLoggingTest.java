package io.layerswarm.nat.ice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * ice4j's java.util.logging records reach SLF4J (the test's logback, pattern {@code HH:mm:ss.SSS LEVEL logger
 * msg}) and never JUL's console handler (its {@code Dec 06, 2026 4:46:47 AM class method} / {@code INFO: msg}
 * pairs on stderr). Checked in a fresh JVM, because JUL's console handler and ice4j's config are process-wide.
 */
class Ice4jLoggingTest {
    private static final Pattern JUL_HEADER = Pattern.compile("^[A-Z][a-z]{2} \\d{1,2}, \\d{4} .*[AP]M .*");
    private static final Pattern JUL_RECORD = Pattern.compile("^(SEVERE|WARNING|INFO|CONFIG|FINE|FINER|FINEST): .*");
    private static final Pattern LOGBACK_LINE = Pattern.compile("^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO .*");

    /** Sets ice4j up as the first hole punch does (the ICE agent's class initialisation), then exits. */
    public static final class Child {
        public static void main(String[] args) throws ClassNotFoundException {
            Class.forName(IceAgent.class.getName(), true, Child.class.getClassLoader());
            System.exit(0);
        }
    }

    @Test
    void ice4jLogsThroughSlf4jAndNothingOfItReachesStderrThroughJul() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Child.class.getName())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child did not end");
        assertEquals(0, p.exitValue(), err);
        List<String> lines = err.lines().toList();
        assertFalse(lines.stream().anyMatch(l -> JUL_HEADER.matcher(l).matches() || JUL_RECORD.matcher(l).matches()),
                "JUL console output on stderr:\n" + err);
        // jitsi's config start-up line (INFO), which JUL printed on stderr before, now comes through logback
        assertTrue(lines.stream().anyMatch(l -> LOGBACK_LINE.matcher(l).matches() && l.contains("Initialized newConfig")),
                "ice4j's start-up record did not reach SLF4J:\n" + err);
    }

    @Test
    void theJulLevelFollowsTheSlf4jLevel() {
        // the test's logback config: root INFO
        assertEquals(Level.INFO, Ice4jLogging.julLevel(org.slf4j.LoggerFactory.getLogger(Ice4jLogging.ICE4J)));
        assertEquals(Level.OFF, Ice4jLogging.julLevel(org.slf4j.helpers.NOPLogger.NOP_LOGGER));
    }
}
