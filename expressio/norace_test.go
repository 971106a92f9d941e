//go:build !race

package expressio_test

const raceEnabled = false
