package io.layerswarm.cache;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.cache.policy.PolicyState;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The policy's history on disk: one JSON document {@code {"version":1,"state":{...}}}, replaced
 * atomically (temp file, fsync, rename, fsync of the directory) so a crash leaves the old or the
 * new journal, never a torn one.
 */
final class PolicyJournal {
    static final int VERSION = 1;
    /** Largest journal accepted; bigger files are refused unread. */
    static final long MAX_BYTES = 64L << 20;

    private static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(16).maxStringLength(1 << 20).build())
            .build())
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /** The document: a version and the state. */
    record Document(int version, PolicyState state) {
    }

    private PolicyJournal() {
    }

    /** Writes {@code state} to {@code file} atomically. */
    static void write(Path file, PolicyState state) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
                 OutputStream out = java.nio.channels.Channels.newOutputStream(ch)) {
                out.write(MAPPER.writeValueAsBytes(new Document(VERSION, state)));
                out.flush();
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("journal " + file + " needs a file system with atomic rename", e);
            }
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            } catch (IOException e) {
                // Some file systems cannot fsync a directory; the rename is still atomic.
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Reads a journal.
     *
     * @return the state, or {@code null} if the file does not exist
     * @throws IOException with a clear message when the file is too big, not JSON, or of another version
     */
    static PolicyState read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return null;
        }
        long size = Files.size(file);
        if (size > MAX_BYTES) {
            throw new IOException("policy journal " + file + " is " + size + " bytes; limit is " + MAX_BYTES);
        }
        Document doc;
        try {
            doc = MAPPER.readValue(Files.readAllBytes(file), Document.class);
        } catch (JsonProcessingException e) {
            throw new IOException("policy journal " + file + " is corrupt: " + e.getOriginalMessage(), e);
        }
        if (doc == null || doc.version() != VERSION || doc.state() == null || doc.state().policy() == null) {
            throw new IOException("policy journal " + file + " has no version " + VERSION + " state");
        }
        return doc.state();
    }
}
