package mongo

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zhucun/domain"
)

// maxBatch bounds the documents of one group insert.
const maxBatch = 500

// batcher group-commits inserts into one collection: concurrent callers'
// documents go out in one unordered insertMany, and each caller gets its
// own document's outcome. On the embedded store one insertMany of 100
// documents costs about what one insertOne does.
type batcher struct {
	s    *Store
	col  string
	reqs chan *batchReq
}

type batchReq struct {
	doc  any
	done chan error
	// then, when not nil, is told the outcome once it is known, whether or
	// not the caller still waits: stored, or unknown (the group insert
	// failed as a whole, so the document may have been stored).
	then func(stored, unknown bool)
}

// finish hands the request its outcome; unknown says the document may
// have been stored despite err.
func (r *batchReq) finish(err error, unknown bool) {
	// then first: a caller told "stored" must find what then records
	// (the inbox's copy in memory).
	if r.then != nil {
		r.then(err == nil, err != nil && unknown)
	}
	r.done <- err
}

// batcherFor returns the collection's batcher, starting it on first use.
func (s *Store) batcherFor(col string) *batcher {
	if b, ok := s.batchers.Load(col); ok {
		return b.(*batcher)
	}
	b := &batcher{s: s, col: col, reqs: make(chan *batchReq, maxBatch)}
	if got, loaded := s.batchers.LoadOrStore(col, b); loaded {
		return got.(*batcher)
	}
	s.batchWG.Add(1)
	go b.loop()
	return b
}

// insert adds doc in the next group and waits until it is durable.
// ErrDuplicate when its _id (or another unique key) is taken.
func (b *batcher) insert(ctx context.Context, doc any) error {
	return b.insertThen(ctx, doc, nil)
}

// insertThen is insert that also tells then the outcome once it is known,
// whether or not the caller still waits for it.
func (b *batcher) insertThen(ctx context.Context, doc any, then func(stored, unknown bool)) error {
	r := &batchReq{doc: doc, done: make(chan error, 1), then: then}
	select {
	case b.reqs <- r:
	case <-b.s.stop:
		err := fmt.Errorf("insert into %s: %w", b.col, domain.ErrUnavailable)
		r.finish(err, false)
		return err
	case <-ctx.Done():
		r.finish(ctx.Err(), false)
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		// The insert may still go ahead; a retry finds it as a duplicate.
		return ctx.Err()
	case <-b.s.stop:
		return fmt.Errorf("insert into %s: %w", b.col, domain.ErrUnavailable)
	}
}

func (b *batcher) loop() {
	defer b.s.batchWG.Done()
	for {
		var first *batchReq
		select {
		case first = <-b.reqs:
		case <-b.s.stop:
			// Whatever is still queued never goes out.
			for {
				select {
				case r := <-b.reqs:
					r.finish(fmt.Errorf("insert into %s: %w", b.col, domain.ErrUnavailable), false)
				default:
					return
				}
			}
		}
		batch := []*batchReq{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		b.flush(batch)
	}
}

func (b *batcher) flush(batch []*batchReq) {
	docs := make([]any, len(batch))
	for i, r := range batch {
		docs[i] = r.doc
	}
	errs := make([]error, len(batch))
	unknown := false
	err := b.s.call(context.Background(), func(ctx context.Context) error {
		_, err := b.s.db.Collection(b.col).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		return err
	})
	var bwe mongo.BulkWriteException
	switch {
	case err == nil:
	case errors.As(err, &bwe) && bwe.WriteConcernError == nil && len(bwe.WriteErrors) > 0:
		for _, we := range bwe.WriteErrors {
			if we.Index < 0 || we.Index >= len(errs) {
				continue
			}
			if we.Code == 11000 || we.Code == 11001 {
				errs[we.Index] = fmt.Errorf("insert into %s: %w", b.col, domain.ErrDuplicate)
			} else {
				errs[we.Index] = fmt.Errorf("insert into %s: %s", b.col, we.Message)
			}
		}
	default:
		// The group insert failed as a whole: any of it may be stored.
		unknown = true
		for i := range errs {
			errs[i] = fmt.Errorf("insert into %s: %w", b.col, err)
		}
	}
	for i, r := range batch {
		r.finish(errs[i], unknown)
	}
}

// stopBatchers ends the batchers' goroutines.
func (s *Store) stopBatchers() {
	s.stopOnce.Do(func() { close(s.stop) })
	s.batchWG.Wait()
}
