package io.layerswarm.nat.ice;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A TURN server (RFC 8656, e.g. coturn) and the long-term credentials of this node's user on it: where ICE
 * gathers relayed candidates, the path of last resort when no direct pair works (symmetric NATs).
 * {@link #toString()} leaves the password out.
 */
public record TurnServer(InetSocketAddress address, String user, String password) {
    /** Longest user name or password accepted (coturn's own limit is 512 bytes). */
    public static final int MAX_CREDENTIAL_LENGTH = 256;
    /** Largest password file read. */
    static final int MAX_FILE_BYTES = 4096;

    /** Checks the address (a port) and the credentials (1-256 characters, no control characters). */
    public TurnServer {
        Objects.requireNonNull(address, "address");
        if (address.getPort() == 0) {
            throw new IllegalArgumentException("turn " + address + ": needs a port (3478 is TURN's)");
        }
        check("turn user", user);
        check("turn password", password);
    }

    private static void check(String what, String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(what + " is empty");
        }
        if (value.length() > MAX_CREDENTIAL_LENGTH) {
            throw new IllegalArgumentException(what + " is longer than " + MAX_CREDENTIAL_LENGTH + " characters");
        }
        if (value.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException(what + " contains a control character");
        }
    }

    /**
     * The server with the password read from {@code passwordFile} (UTF-8, one line; a trailing line break
     * is not part of the password), so the password stays out of command lines and config files.
     *
     * @throws IllegalArgumentException naming the file if it is missing, unreadable, empty or not one line
     */
    public static TurnServer withPasswordFile(InetSocketAddress address, String user, Path passwordFile) {
        check("turn user", user);
        String where = "turn password file " + passwordFile;
        String text;
        try {
            if (Files.isDirectory(passwordFile)) {
                throw new IllegalArgumentException(where + ": is a directory");
            }
            if (Files.size(passwordFile) > MAX_FILE_BYTES) {
                throw new IllegalArgumentException(where + ": larger than " + MAX_FILE_BYTES + " bytes");
            }
            text = Files.readString(passwordFile, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(where + ": not found", e);
        } catch (IOException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
        String password = text.replaceFirst("(\\r?\\n)+$", "");
        if (password.isEmpty()) {
            throw new IllegalArgumentException(where + ": is empty");
        }
        if (password.indexOf('\n') >= 0 || password.indexOf('\r') >= 0) {
            throw new IllegalArgumentException(where + ": has more than one line");
        }
        check(where + ": the password", password);
        return new TurnServer(address, user, password);
    }

    @Override
    public String toString() {
        return "TurnServer[" + address + ", user=" + user + "]";
    }
}
