// Package archive streams the sccache disk-cache directory to and from a
// tar+zstd archive in the format that the official actions/cache client writes
// and reads on Linux, so entries saved by this action can be restored by
// actions/cache and the other way round.
//
// # What the official client does
//
// Facts read from actions/toolkit packages/cache (src/internal/tar.ts,
// cacheUtils.ts, constants.ts; @actions/cache 6.x, unchanged in this respect
// since February 2023):
//
//   - Saving resolves each path pattern and makes every match relative to
//     GITHUB_WORKSPACE with path.relative, slash-separated ("." for the
//     workspace itself). A cache directory outside the workspace therefore
//     appears as a "../"-prefixed name such as "../../_temp/rustcache/cache".
//     These names go to a manifest file, and the archive is made with
//     GNU tar: tar --posix -cf cache.tzst --exclude cache.tzst -P
//     -C $GITHUB_WORKSPACE --files-from manifest.txt, compressed through
//     --use-compress-program zstdmt (zstd -T0 on Windows). --posix makes it a
//     PAX archive; -P keeps the "../" prefixes; tar recurses into the listed
//     directory, so the directory itself is the first entry ("name/") and
//     every member follows with the same prefix.
//   - Restoring runs tar -xf cache.tzst -P -C $GITHUB_WORKSPACE with
//     --use-compress-program unzstd, so the "../" names land back at the
//     absolute paths they came from.
//   - getCompressionMethod returns ZstdWithoutLong whenever
//     "zstd --quiet --version" prints anything (gzip otherwise). The method that adds --long=30 to both
//     sides (CompressionMethod.Zstd, version component "zstd") still exists in
//     the source but has not been selected since the February 2023 change that
//     dropped the zstd version check. Archives are therefore written without
//     long-distance matching, at zstd's default level 3 (a 2 MiB window for
//     large inputs), and read by a zstd CLI that accepts windows up to its
//     default limit of 128 MiB.
//   - The cache "version" sent to the cache service is the hex SHA-256 of the
//     path patterns, the compression method name "zstd-without-long", the
//     marker "windows-only" on Windows without cross-OS archives, and the salt
//     "1.0", joined by "|". That hash belongs to the cache-service client; it
//     is repeated here because it pins the compression format: an entry saved
//     under "zstd-without-long" must decode with a 128 MiB window.
//
// # What this package writes
//
// [Write] emits the same shape: a PAX tar (archive/tar, tar.FormatPAX) whose
// first entry is the cache directory itself and whose names are relative to
// the workspace, slash-separated, directories with a trailing "/". Members
// follow in sorted order, depth first. Regular files and directories are
// stored with their permission bits, owner ids (as GNU tar does) and their
// modification time to the nanosecond (a PAX "mtime" record when the time has
// a fractional second); sccache trims its cache by file time, so the times
// matter. Other kinds of file (symbolic links, sockets, ...) are left out and
// counted in [Stats.Skipped]; an sccache cache has none. The tar stream is
// compressed by klauspost/compress/zstd as a single frame with a content
// checksum and an 8 MiB window at most, well inside the 128 MiB that unzstd
// accepts without --long. No temporary archive file is made: the caller hands
// an io.Writer that may be an upload (an io.Pipe to the uploading goroutine,
// so that upload and compression overlap).
//
// Level and concurrency were measured on a real sccache directory and on a
// synthetic 100 MB one (bench_test.go has the numbers). sccache stores its
// entries compressed already, so the archive shrinks by 1% at any level and
// compression is cheap: a single goroutine at zstd.SpeedFastest archives
// about 1.2 GB/s, faster than zstd.SpeedDefault (about 1 GB/s, same size),
// than the toolkit's own tar | zstdmt pipeline (250 to 400 MB/s on the same
// machine) and than any upload. Handing blocks to a second encoder goroutine
// cost a quarter more CPU and parallel blocks (zstd.WithConcurrentBlocks) about
// twice the CPU, neither gaining wall time, so by default Write compresses synchronously at
// SpeedFastest; [WriteOptions.Concurrency] and [WriteOptions.ParallelBlocks]
// remain for data that compresses.
//
// [WriteDirs] and [ExtractDirs] do the same for several directories in one
// archive (what actions/cache makes of several paths): each directory's
// entries follow its own, every entry must land in one of them, and each
// directory is swapped into place on its own once the whole stream checked
// out.
//
// # What this package reads
//
// [Extract] accepts what GNU tar --posix (and other ustar, PAX or GNU tar
// writers) produce, compressed by any zstd encoder whose window fits
// [ExtractOptions.MaxWindow] (128 MiB by default, the zstd CLI's own default
// limit; 1 GiB is needed for the --long=30 archives of the unused "zstd"
// method). Decoding is synchronous and uses the decoder's low-memory mode.
// Extraction is atomic for the caller: everything goes into a new sibling
// directory of the destination (".NAME.tmp-*"), which replaces the destination
// only after the whole stream decoded, its checksum matched, the tar
// end-of-archive marker was seen and every entry passed the checks below.
// On any error the sibling is removed and the destination is left as it was.
//
// Names are relative to the workspace, so an entry is expected to resolve,
// joined to the extracting job's workspace, inside the destination directory
// (or to be the directory itself). An archive saved with the directory at
// another place relative to its workspace (another RUNNER_TEMP, cache-root or
// workspace) begins with that directory under its old name: when the first
// entry is a directory outside the expected place, its name takes the
// expected name's place, and every entry is extracted by its path below it —
// the archive's own layout. tar -P -C $GITHUB_WORKSPACE would write such an
// archive back to where it came from; this package always writes it into the
// destination. An entry outside the archived directory is rejected. Rejected
// with [ErrUnsafe]: absolute names, names that leave the destination, symbolic
// links of any kind (the cache has none, and refusing them means no entry can
// ever make a later path resolve elsewhere), hard links whose target is not a
// regular file already extracted from this archive, character and block
// devices, FIFOs and any other entry type, and entries that clash with an
// earlier entry of another kind. Rejected with [ErrTooLarge] (which is also an
// [ErrUnsafe]): archives whose files add up to more than
// [ExtractOptions.MaxBytes], whose tar stream runs far past its declared
// contents (stacked extended headers), with more than
// [ExtractOptions.MaxEntries] entries, or whose zstd window exceeds
// [ExtractOptions.MaxWindow]. Damaged data (zstd or checksum errors,
// truncation, tar header errors, a missing end-of-archive marker, more than
// 1 MiB after it) is [ErrCorrupt]. Any other error is an I/O error of the source, the
// destination file system, or the context.
//
// Modes keep their permission bits; set-id and sticky bits are dropped, and
// directories always keep owner rwx so the cache stays writable and
// removable. Ownership is not restored (files belong to the extracting user),
// file contents are not fsynced (a cache may be lost on a crash, it is only a
// cache), and hard links inside the destination are recreated as links.
//
// # Why not mholt/archives
//
// mholt/archives wraps the same two libraries (archive/tar and
// klauspost/compress/zstd) behind a format-agnostic interface. This package
// needs one fixed format, control over every entry before anything touches
// the disk, the PAX naming of actions/cache, and no extra weight in a binary
// that must start fast, so it uses archive/tar and klauspost/compress/zstd
// directly. The tests use mholt/archives' format identification to check that
// the output is recognised as a .tar.zst stream.
package archive
