package org.imagingpipeline.inference;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import org.imagingpipeline.testsupport.SharedTestData;

/** Shared data and external programs a test needs: missing ones fail under CI=true and skip (with the reason) elsewhere. */
final class Prerequisites {
    private Prerequisites() {
    }

    static Path dicomVendors() {
        return SharedTestData.require("dicom-vendors");
    }

    /** The program's path on PATH (or /usr/sbin, where Debian puts Orthanc). */
    static Path program(String name, String debianPackage) {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/sbin";
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) return p;
        }
        missing(name + " is not installed (apt-get install " + debianPackage + "; ./pipeline setup does it)");
        return null;
    }

    private static void missing(String reason) {
        SharedTestData.missing(reason);
    }
}
