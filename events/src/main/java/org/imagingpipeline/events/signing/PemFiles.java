package org.imagingpipeline.events.signing;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Set;

/**
 * Key files of the local stack's {@code PIPELINE_HOME/secrets/} (the token issuer's and retrain's model-signing key):
 * PEM text, a folder of mode 0700, private keys of mode 0600 created once and never replaced, public keys (0644)
 * rewritten atomically when they differ. docs/security.md, "Key files".
 */
public final class PemFiles {
    public static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private PemFiles() {
    }

    /** {@code -----BEGIN type-----}, the DER in base64 lines of 64, {@code -----END type-----}. */
    public static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /** The DER inside the first {@code type} block of a PEM file. */
    public static byte[] readPem(Path file, String type) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        int begin = text.indexOf("-----BEGIN " + type + "-----");
        int end = text.indexOf("-----END " + type + "-----");
        if (begin < 0 || end < begin) throw new IOException(file + " holds no PEM block " + type);
        try {
            return Base64.getMimeDecoder().decode(text.substring(begin + type.length() + 16, end));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": bad base64 in PEM block " + type, e);
        }
    }

    /** Creates the folder when missing and makes it 0700 (where the file system has POSIX permissions). */
    public static void secretsFolder(Path secrets) throws IOException {
        Files.createDirectories(secrets);
        trySetPermissions(secrets, PosixFilePermissions.fromString("rwx------"));
    }

    /**
     * Writes {@code content} to {@code target} unless it exists: temp file (0600, fsync), then a hard link, so of two
     * processes creating it at once one wins and the file is never half-written.
     *
     * @return true when this call created it
     */
    public static boolean createOnce(Path target, String content) throws IOException {
        Path tmp = Files.createTempFile(target.getParent(), ".key-", ".tmp", PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.write(StandardCharsets.US_ASCII.encode(content));
                ch.force(true);
            }
            Files.createLink(target, tmp);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Tightens a private key file to 0600 when it is readable by others. */
    public static void ownerOnly(Path file) throws IOException {
        if (!OWNER_ONLY.equals(permissions(file))) trySetPermissions(file, OWNER_ONLY);
    }

    /**
     * Writes a private file (0600 from its creation: temp file, fsync, atomic move) unless it already holds exactly
     * {@code content}; a looser mode of an unchanged file is tightened.
     */
    public static void writeOwnerOnly(Path target, String content) throws IOException {
        if (Files.exists(target) && Files.readString(target, StandardCharsets.US_ASCII).equals(content)) {
            ownerOnly(target);
            return;
        }
        Path tmp = Files.createTempFile(target.getParent(), ".key-", ".tmp", PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.write(StandardCharsets.US_ASCII.encode(content));
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Writes a public file (0644) atomically unless it already holds exactly {@code content}. */
    public static void writePublic(Path file, String content) throws IOException {
        if (Files.exists(file) && Files.readString(file, StandardCharsets.US_ASCII).equals(content)) return;
        Path tmp = Files.createTempFile(file.getParent(), ".public-", ".tmp");
        Files.writeString(tmp, content, StandardCharsets.US_ASCII);
        trySetPermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static Set<PosixFilePermission> permissions(Path p) throws IOException {
        try {
            return Files.getPosixFilePermissions(p);
        } catch (UnsupportedOperationException e) {
            return OWNER_ONLY;
        }
    }

    private static void trySetPermissions(Path p, Set<PosixFilePermission> perms) throws IOException {
        try {
            Files.setPosixFilePermissions(p, perms);
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: nothing to tighten
        }
    }
}
