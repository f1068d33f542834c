package org.imagingpipeline.retrain.service;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import org.imagingpipeline.retrain.Hashing;

/** Ids that come from events or URLs become file and directory names only through here. */
public final class SafeNames {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}");
    private static final Pattern UID = Pattern.compile("[0-9][0-9.]{0,63}");

    private SafeNames() {
    }

    public static boolean isId(String id) {
        return id != null && ID.matcher(id).matches();
    }

    /** A domain or job id, refused when it could escape a directory. */
    public static String check(String id) {
        if (!isId(id)) throw new IllegalArgumentException("not a usable id: " + id);
        return id;
    }

    /** An id from a URL as an audit event or a log line names it: as it is when it is an id, else "(not an id)". */
    public static String forLog(String id) {
        return isId(id) ? id : "(not an id)";
    }

    /** DICOM UIDs (digits and dots) as they are; anything else by its SHA-256. */
    public static String forFile(String uid) {
        return UID.matcher(uid).matches() ? uid : Hashing.sha256Hex(uid.getBytes(StandardCharsets.UTF_8));
    }
}
