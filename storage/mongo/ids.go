package mongo

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zhucun/domain"
)

// The id set holds every record id of the store, as a 64-bit hash, in
// memory. A create checks and adds its id here instead of inserting it into
// an id collection first: one commit per create instead of two (on the
// embedded store a create costs its commits). A hit is only a "maybe": the
// create then reads the record, and goes on when there is none (a hash
// collision, or an earlier create of the id that failed); two concurrent
// creates of one id still meet at the inbox's unique _id. The set is built
// at Open from the directory and the inbox, and one process writes a
// database (docs/architecture.md), so it sees every create. At 1,000,000
// records it takes ≈ 40 MB (measured: 64 maps of 64-bit keys).
//
// Reading a million ids through FerretDB takes ≈ 25 s, so a clean Close
// writes the set to a snapshot, and Open reads the snapshot instead — and
// drops it before the store takes any write, so after a crash the next Open
// finds none and reads the ids.
type idSet struct {
	shards [64]idShard
}

// idHash is the set's hash of an id: FNV-1a, fixed, so a snapshot stays
// valid across processes.
func idHash(id string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return h.Sum64()
}

// The snapshot: a head document and chunks of hashes, 8 bytes each.
const (
	// colRecordIDs held every record id before the id set; Open drops it.
	colRecordIDs    = "record_ids"
	colIDSnapshot   = "id_snapshot"
	idSnapshotHash  = "fnv1a64"
	idSnapshotChunk = 100_000 // hashes a chunk
)

type idSnapshotHead struct {
	ID     string `bson:"_id"` // "head"
	Hash   string `bson:"hash"`
	Chunks int    `bson:"chunks"`
	IDs    int    `bson:"ids"`
}

type idSnapshotChunkRow struct {
	ID     string `bson:"_id"` // "c<n>"
	Hashes []byte `bson:"h"`
}

type idShard struct {
	mu sync.Mutex
	m  map[uint64]struct{}
}

func newIDSet() *idSet {
	s := &idSet{}
	for i := range s.shards {
		s.shards[i].m = map[uint64]struct{}{}
	}
	return s
}

// add puts id in the set and says whether it may have been there already.
func (s *idSet) add(id string) (maybeHad bool) {
	return s.addHash(idHash(id))
}

func (s *idSet) addHash(h uint64) (maybeHad bool) {
	sh := &s.shards[h%uint64(len(s.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[h]; ok {
		return true
	}
	sh.m[h] = struct{}{}
	return false
}

// hashes returns every hash in the set.
func (s *idSet) hashes() []uint64 {
	var out []uint64
	for i := range s.shards {
		s.shards[i].mu.Lock()
		for h := range s.shards[i].m {
			out = append(out, h)
		}
		s.shards[i].mu.Unlock()
	}
	return out
}

// len counts the ids in the set.
func (s *idSet) len() int {
	n := 0
	for i := range s.shards {
		s.shards[i].mu.Lock()
		n += len(s.shards[i].m)
		s.shards[i].mu.Unlock()
	}
	return n
}

// loadIDs fills the id set from the directory partitions and the inboxes
// (their copy in memory, which Open loads first): every stored record is in
// one of them (the mover writes the directory before it lets go of an inbox
// copy).
func (s *Store) loadIDs(ctx context.Context) error {
	if err := s.call(ctx, func(ctx context.Context) error { return s.db.Collection(colRecordIDs).Drop(ctx) }); err != nil {
		return fmt.Errorf("drop the old id collection: %w", err)
	}
	ok, err := s.loadIDSnapshot(ctx)
	if err != nil {
		return err
	}
	if !ok {
		for i := range dirFanout {
			if err := s.loadIDsOf(ctx, dirPartition(i)); err != nil {
				return err
			}
		}
	}
	// Creates still in the inboxes (after a snapshot they are in the set
	// already; the set ignores repeats).
	for _, r := range s.inboxRows(func(recordRow) bool { return true }) {
		s.ids.add(r.ID)
	}
	return nil
}

// loadIDsOf adds the ids of one collection to the id set.
func (s *Store) loadIDsOf(ctx context.Context, col string) error {
	// One partition can hold a sixteenth of a million ids: a longer
	// deadline than a single call's.
	ctx, cancel := context.WithTimeout(ctx, maxQueryDuration)
	defer cancel()
	cur, err := s.db.Collection(col).Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return fmt.Errorf("load record ids from %s: %w", col, translate(err))
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		id, ok := cur.Current.Lookup("_id").StringValueOK()
		if !ok {
			return fmt.Errorf("load record ids: an id in %s is not a string", col)
		}
		s.ids.add(id)
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("load record ids from %s: %w", col, translate(err))
	}
	return nil
}

// loadIDSnapshot fills the id set from a clean Close's snapshot, if there
// is one, and drops it; ok false means there was none to use.
func (s *Store) loadIDSnapshot(ctx context.Context) (ok bool, err error) {
	head, err := findOne[idSnapshotHead](ctx, s, colIDSnapshot, bson.D{{Key: "_id", Value: "head"}})
	if errors.Is(err, domain.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the id snapshot: %w", err)
	}
	valid := head.Hash == idSnapshotHash
	n := 0
	for c := 0; valid && c < head.Chunks; c++ {
		chunk, err := findOne[idSnapshotChunkRow](ctx, s, colIDSnapshot, bson.D{{Key: "_id", Value: fmt.Sprint("c", c)}})
		if err != nil || len(chunk.Hashes)%8 != 0 {
			valid = false
			break
		}
		for i := 0; i < len(chunk.Hashes); i += 8 {
			s.ids.addHash(binary.LittleEndian.Uint64(chunk.Hashes[i:]))
			n++
		}
	}
	// Gone before any write: a crash from now on leaves no stale snapshot.
	if err := s.call(ctx, func(ctx context.Context) error { return s.db.Collection(colIDSnapshot).Drop(ctx) }); err != nil {
		return false, fmt.Errorf("drop the id snapshot: %w", err)
	}
	if !valid || n != head.IDs {
		s.ids = newIDSet() // read the ids instead
		return false, nil
	}
	return true, nil
}

// writeIDSnapshot writes the id set for the next Open; called by Close once
// no create can run.
func (s *Store) writeIDSnapshot(ctx context.Context) error {
	hs := s.ids.hashes()
	var docs []any
	for c := 0; c*idSnapshotChunk < len(hs) || c == 0; c++ {
		part := hs[c*idSnapshotChunk : min(len(hs), (c+1)*idSnapshotChunk)]
		b := make([]byte, 8*len(part))
		for i, h := range part {
			binary.LittleEndian.PutUint64(b[8*i:], h)
		}
		docs = append(docs, idSnapshotChunkRow{ID: fmt.Sprint("c", c), Hashes: b})
	}
	// The head last: without it the chunks are ignored.
	docs = append(docs, idSnapshotHead{ID: "head", Hash: idSnapshotHash, Chunks: len(docs), IDs: len(hs)})
	col := s.db.Collection(colIDSnapshot)
	if err := s.call(ctx, func(ctx context.Context) error { return col.Drop(ctx) }); err != nil {
		return fmt.Errorf("write the id snapshot: %w", err)
	}
	for _, d := range docs {
		if err := s.call(ctx, func(ctx context.Context) error { _, err := col.InsertOne(ctx, d); return err }); err != nil {
			return fmt.Errorf("write the id snapshot: %w", err)
		}
	}
	return nil
}
