package io.layerswarm.handoff;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Overlay opaque directories: a directory of an overlay upper layer with the extended attribute
 * {@code trusted.overlay.opaque=y} hides the image's directory at its path (overlayfs sets it when the
 * container replaces an image directory: {@code rm -rf d && mkdir d}). The JDK reads and writes only
 * {@code user.*} attributes, so one {@code getfattr} per scan finds them and one {@code setfattr} per
 * batch sets them (Debian package {@code attr}; {@code trusted.*} needs CAP_SYS_ADMIN, as the node has
 * when it drives containerd).
 */
final class OverlayOpaque {
    /** The attribute; only its value {@code y} marks an opaque directory. */
    static final String XATTR = "trusted.overlay.opaque";
    private static final long TIMEOUT_SECONDS = 60;
    /** Paths per setfattr call: far below the kernel's argument limit. */
    private static final int BATCH = 256;

    private OverlayOpaque() {
    }

    /** Paths (relative to {@code root}, {@code /}-separated) of the opaque directories below it. */
    static Set<String> find(Path root) throws IOException {
        // -P: symlinks are not followed; names are printed relative to "." and escaped (\ooo)
        byte[] out = run(root, true, List.of("getfattr", "-R", "-P", "--absolute-names", "-m", "^trusted\\.overlay\\.opaque$",
                "-e", "hex", "-d", "."));
        return parse(new String(out, StandardCharsets.ISO_8859_1));
    }

    /**
     * Parses {@code getfattr -d -e hex} output run in the root as {@code "."}: blocks of
     * {@code # file: ./PATH} and {@code trusted.overlay.opaque=0xHEX} lines.
     *
     * @param text the output, one char per byte (ISO-8859-1)
     * @throws IOException on output of another shape
     */
    static Set<String> parse(String text) throws IOException {
        Set<String> out = new HashSet<>();
        String file = null;
        for (String line : text.split("\n", -1)) {
            if (line.isEmpty()) {
                file = null;
            } else if (line.startsWith("# file: ")) {
                String name = unescape(line.substring("# file: ".length()));
                if (name.equals(".")) {
                    file = ""; // the root itself: not an entry of the tree
                } else if (name.startsWith("./") && name.length() > 2 && !name.endsWith("/")) {
                    file = name.substring(2);
                } else {
                    throw new IOException("getfattr printed an unexpected file name: " + line);
                }
            } else if (line.startsWith(XATTR + "=")) {
                if (file == null) {
                    throw new IOException("getfattr printed an attribute without a file: " + line);
                }
                if (!file.isEmpty() && line.substring(XATTR.length() + 1).equals("0x79")) { // "y"
                    out.add(file);
                }
            } else {
                throw new IOException("unexpected getfattr line: " + line);
            }
        }
        return out;
    }

    /** getfattr's quoting: a backslash and three octal digits stand for one byte; the bytes are UTF-8. */
    private static String unescape(String s) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                if (i + 3 >= s.length()) {
                    throw new IOException("bad escape in getfattr output: " + s);
                }
                String oct = s.substring(i + 1, i + 4);
                if (!oct.matches("[0-3][0-7][0-7]")) {
                    throw new IOException("bad escape in getfattr output: " + s);
                }
                b.write(Integer.parseInt(oct, 8));
                i += 3;
            } else {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    /**
     * Sets ({@code opaque}) or removes the attribute on directories below {@code root}, never following a
     * symlink in the last component. The paths must already be safe (resolved through the root guard).
     */
    static void mark(Path root, Collection<String> dirs, boolean opaque) throws IOException {
        List<String> all = new ArrayList<>(dirs);
        for (int i = 0; i < all.size(); i += BATCH) {
            List<String> cmd = new ArrayList<>(opaque ? List.of("setfattr", "-h", "-n", XATTR, "-v", "y", "--")
                    : List.of("setfattr", "-h", "-x", XATTR, "--"));
            for (String d : all.subList(i, Math.min(all.size(), i + BATCH))) {
                cmd.add("./" + d);
            }
            run(root, false, cmd);
        }
    }

    /**
     * Runs {@code cmd} in {@code dir}; its stdout.
     *
     * @param vanishedOk whether a failure that only reports files gone meanwhile counts as success (a
     *                   running container deletes files while a scan walks its layer)
     */
    private static byte[] run(Path dir, boolean vanishedOk, List<String> cmd) throws IOException {
        Path err = Files.createTempFile("layerswarm-xattr-", ".err");
        try {
            Process p;
            try {
                p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            } catch (IOException e) {
                throw new IOException(cmd.get(0) + " is needed for overlay opaque directories (Debian package attr): "
                        + e.getMessage(), e);
            }
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(cmd.get(0) + " in " + dir + " timed out");
            }
            String errors = Files.readString(err).strip();
            boolean vanished = vanishedOk && !errors.isEmpty()
                    && errors.lines().allMatch(l -> l.endsWith(": No such file or directory"));
            if (p.exitValue() != 0 && !vanished) {
                throw new IOException(cmd.get(0) + " in " + dir + " failed: " + errors);
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted running " + cmd.get(0));
        } finally {
            Files.deleteIfExists(err);
        }
    }
}
