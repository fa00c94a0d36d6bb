# Sourced by the bench scripts: the heap allocator both sides of a measurement run under, from $ALLOCATOR.
#   glibc (default)   glibc malloc as the system ships it (dynamic mmap threshold)
#   glibc-mmap1m      glibc with MALLOC_MMAP_THRESHOLD_=1048576 (blocks of 1 MiB and more mapped and given back)
#   jemalloc          jemalloc 5 (Debian libjemalloc2, installed when missing) with MALLOC_CONF=narenas:1
#   jemalloc-keep     jemalloc that never returns freed pages (narenas:1,dirty_decay_ms:-1,muzzy_decay_ms:-1)
# Sets ALLOC_ENV, an array of VAR=value words for `env`. README "Platform notes" says which to use when.
ALLOCATOR=${ALLOCATOR:-glibc}
JEMALLOC=libjemalloc.so.2
case "$ALLOCATOR" in
  glibc) ALLOC_ENV=() ;;
  glibc-mmap1m) ALLOC_ENV=(MALLOC_MMAP_THRESHOLD_=1048576) ;;
  jemalloc|jemalloc-keep)
    if ! ldconfig -p | grep -q "$JEMALLOC"; then
      echo "installing libjemalloc2 (apt)..." >&2
      SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
      $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libjemalloc2 >&2
    fi
    conf=narenas:1
    [ "$ALLOCATOR" = jemalloc-keep ] && conf=narenas:1,dirty_decay_ms:-1,muzzy_decay_ms:-1
    ALLOC_ENV=(LD_PRELOAD=$JEMALLOC MALLOC_CONF=$conf) ;;
  *) echo "ALLOCATOR is '$ALLOCATOR'; use glibc, glibc-mmap1m, jemalloc or jemalloc-keep" >&2; exit 2 ;;
esac
