# full-images.sh — image definitions of the 'full' corpus set; sourced by build-corpus.sh.
build_full() { die "full set not defined yet"; }
