package passwd

import (
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	for _, a := range []Argon2id{Fast(), {Memory: 1024, Time: 2, Threads: 2}} {
		h, err := a.Hash("correct horse")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h, "$argon2id$v=19$") {
			t.Fatalf("hash %q is not a PHC argon2id string", h)
		}
		h2, _ := a.Hash("correct horse")
		if h == h2 {
			t.Fatal("two hashes of one password are equal: the salt is not random")
		}
		// Verify does not depend on the receiver's parameters.
		if ok, err := Default().Verify(h, "correct horse"); err != nil || !ok {
			t.Fatalf("Verify(right) = %v, %v", ok, err)
		}
		if ok, err := a.Verify(h, "wrong horse"); err != nil || ok {
			t.Fatalf("Verify(wrong) = %v, %v", ok, err)
		}
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=0,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaA"} {
		if _, err := Fast().Verify(bad, "x"); err == nil {
			t.Errorf("Verify(%q) accepted a malformed hash", bad)
		}
	}
}
