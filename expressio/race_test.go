//go:build race

package expressio_test

// raceEnabled reports a -race build, whose sync.Pool drops items on
// purpose, so allocation counts mean nothing.
const raceEnabled = true
