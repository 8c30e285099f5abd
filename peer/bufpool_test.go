package peer

import "testing"

// TestBigClasses checks the size classes of the large-frame buffers: a
// class holds its n bytes, wastes at most a quarter of the octave, and a
// buffer of a class's size goes back to that class's pool, where the
// next buffer of the same size is looked for.
func TestBigClasses(t *testing.T) {
	for _, n := range []int{64<<10 + 1, 80 << 10, 100 << 10, 128 << 10, 128<<10 + 1, 256<<10 + 100,
		1 << 20, 1<<20 + 64, 3 << 20, 4<<20 + 71, 5 << 20, 48 << 20, 64 << 20} {
		i, size := bigClass(n)
		if size < n || float64(size) > 1.25*float64(n)+1 {
			t.Errorf("bigClass(%d) = %d: not between n and 1.25 n", n, size)
		}
		if got := bigFloorClass(size); got != i {
			t.Errorf("bigFloorClass(%d) = %d, want the class of %d, %d", size, got, n, i)
		}
		// A larger buffer than the class's size (grown by append) goes
		// to a class whose buffers it can stand in for.
		if f := bigFloorClass(size + 1000); f < i {
			t.Errorf("bigFloorClass(%d) = %d, below %d", size+1000, f, i)
		} else if _, fs := classSize(f); fs > size+1000 {
			t.Errorf("bigFloorClass(%d) = %d, whose size %d is over it", size+1000, f, fs)
		}
		bp := getBigBuffer(n)
		if cap(*bp) < n || len(*bp) != 0 {
			t.Errorf("getBigBuffer(%d): len %d cap %d", n, len(*bp), cap(*bp))
		}
	}
}

// classSize is the size of class i, the inverse of bigClass.
func classSize(i int) (int, int) {
	e, steps := i/4, i%4+1
	return i, 1<<e + steps*(1<<(e-2))
}
