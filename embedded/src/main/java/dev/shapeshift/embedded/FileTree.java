package dev.shapeshift.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Temporary directories: made private to their owner, walked while a server may still change them,
 * deleted recursively (never following symlinks out of the tree).
 */
final class FileTree {

  private static final Logger log = LoggerFactory.getLogger(FileTree.class);

  private FileTree() {}

  /** A new directory under the system's temporary directory, {@code rwx------}; {@code what} names it in the error. */
  static Path privateTempDirectory(String prefix, String what) {
    try {
      return Files.createTempDirectory(prefix,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (IOException e) {
      throw new UncheckedIOException("creating " + what, e);
    }
  }

  /**
   * A walk over a directory a running server may still write: a file that is gone by the time the
   * walk reaches it (a temporary file) is passed over; any other failure ends the walk.
   */
  abstract static class LiveTreeVisitor extends SimpleFileVisitor<Path> {
    @Override
    public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
      if (e instanceof NoSuchFileException) {
        return FileVisitResult.CONTINUE;
      }
      throw e;
    }
  }

  static void deleteQuietly(Path root) {
    try {
      delete(root);
    } catch (IOException e) {
      log.warn("could not delete dir={} error={}", root, e.toString());
    }
  }

  static void delete(Path root) throws IOException {
    if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(root, new LiveTreeVisitor() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        deleteIfExists(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
        deleteIfExists(dir);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  private static void deleteIfExists(Path p) throws IOException {
    Files.deleteIfExists(p);
  }
}
