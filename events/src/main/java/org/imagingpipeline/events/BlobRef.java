package org.imagingpipeline.events;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A claim check for bytes kept in the blob store: large pixel data never rides in Kafka.
 *
 * @param sha256    lower-case hex SHA-256 of the bytes (the content address)
 * @param uri       where the store keeps them (file:..., later s3://...)
 * @param size      length in bytes
 * @param mediaType e.g. application/dicom
 */
public record BlobRef(String sha256, String uri, long size, String mediaType) {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    public BlobRef {
        if (sha256 == null || !SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException("sha256 must be 64 lower-case hex digits, got " + sha256);
        }
        if (uri == null || uri.isBlank()) throw new IllegalArgumentException("blob uri is required");
        if (size < 0) throw new IllegalArgumentException("blob size must be >= 0");
    }

    public static String normaliseSha(String hex) {
        return hex == null ? null : hex.toLowerCase(Locale.ROOT);
    }
}
