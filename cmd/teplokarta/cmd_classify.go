package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/processor/classify"
	"github.com/teplokarta/teplokarta/processor/enrich"
	"github.com/teplokarta/teplokarta/processor/resolve"
	"github.com/teplokarta/teplokarta/processor/route"
)

// maxClassifyLine bounds one input line; a longer one becomes an error line, not a stalled stream.
const maxClassifyLine = 1 << 20

// classifyBatch is how many lines a worker takes at once: large enough to amortize channel hand-offs,
// small enough to keep latency low on interactive use.
const classifyBatch = 256

type classifyIn struct {
	ID   json.RawMessage `json:"id"`
	Text *string         `json:"text"`
}

type classifyTop3 struct {
	Category []classify.Label `json:"category"`
	Theme    []classify.Label `json:"theme"`
	Executor []classify.Label `json:"executor"`
}

type classifyOut struct {
	ID                 json.RawMessage `json:"id"`
	Category           string          `json:"category"`
	Theme              string          `json:"theme"`
	Executor           string          `json:"executor"`
	OKTMO              string          `json:"oktmo"`
	Municipality       string          `json:"municipality"`
	Confidence         float32         `json:"confidence"`
	ThemeConfidence    float32         `json:"theme_confidence"`
	ExecutorConfidence float32         `json:"executor_confidence"`
	Top3               classifyTop3    `json:"top3"`
	Rule               string          `json:"rule,omitempty"`
}

type classifyErr struct {
	ID    json.RawMessage `json:"id,omitempty"`
	Line  int64           `json:"line"`
	Error string          `json:"error"`
}

// classifier is everything one output line needs; shared read-only by all workers.
type classifier struct {
	engine   *classify.Engine
	router   *route.Router
	resolver *resolve.Resolver
}

// runClassify reads JSON lines {"id","text"} and writes one JSON line per input line, in input order.
func runClassify(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "classify", "Classify JSON lines {\"id\":…,\"text\":…} from stdin; one JSON line per input on stdout\n"+
		"(category, theme, executor, oktmo, confidence, top3). Bad lines give a line with an \"error\" field.")
	modelPath := fs.String("model", "", "model file (default: the embedded nashdom-ryazan model)")
	taxPath := fs.String("taxonomy", "", "taxonomy YAML (default: the embedded copy of deploy/taxonomy.yaml)")
	routePath := fs.String("routing", "", "routing YAML (default: the embedded copy of deploy/routing.yaml)")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "parallel workers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *workers < 1 {
		fs.Usage()
		return errUsage
	}
	c, err := loadClassifier(*modelPath, *taxPath, *routePath)
	if err != nil {
		return err
	}
	return c.stream(ctx, env.Stdin, env.Stdout, *workers)
}

func loadClassifier(modelPath, taxPath, routePath string) (*classifier, error) {
	engine, router, err := enrich.LoadParts(modelPath, taxPath, routePath)
	if err != nil {
		return nil, err
	}
	return &classifier{engine: engine, router: router, resolver: resolve.New(geo.Default())}, nil
}

type lineBatch struct {
	seq     int
	first   int64 // line number of lines[0]
	lines   [][]byte
	tooLong []bool
	out     []byte
}

// stream runs the reader, the workers and an in-order writer. Workers finish batches in any order; the
// writer holds early ones until their turn, so output order equals input order.
func (c *classifier) stream(ctx context.Context, in io.Reader, out io.Writer, workers int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *lineBatch, workers*2)
	done := make(chan *lineBatch, workers*2)
	var readErr error
	go func() {
		defer close(jobs)
		readErr = readBatches(ctx, in, jobs)
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for b := range jobs {
				buf.Reset()
				for i, line := range b.lines {
					c.line(&buf, b.first+int64(i), line, b.tooLong[i])
				}
				b.out = append(b.out[:0], buf.Bytes()...)
				done <- b
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	w := bufio.NewWriterSize(out, 64<<10)
	pending := map[int]*lineBatch{}
	next := 0
	var writeErr error
	for b := range done {
		pending[b.seq] = b
		for {
			nb, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if writeErr == nil {
				if _, err := w.Write(nb.out); err != nil {
					writeErr = err
					cancel() // nobody reads our output any more: stop reading input
				}
			}
		}
		if len(done) == 0 && len(jobs) == 0 && writeErr == nil {
			writeErr = w.Flush() // the pipeline is idle: let an interactive user see the answers
		}
	}
	if writeErr == nil {
		writeErr = w.Flush()
	}
	if writeErr != nil {
		return fmt.Errorf("classify: write: %w", writeErr)
	}
	if readErr != nil && !errors.Is(readErr, context.Canceled) {
		return fmt.Errorf("classify: read: %w", readErr)
	}
	return ctx.Err()
}

// readBatches splits input into lines (without the newline) and hands them out in batches. A line over
// maxClassifyLine is kept as an error marker, never dropped and never fatal.
func readBatches(ctx context.Context, in io.Reader, jobs chan<- *lineBatch) error {
	r := bufio.NewReaderSize(in, 64<<10)
	seq, lineNo := 0, int64(1)
	b := &lineBatch{first: lineNo}
	send := func() bool {
		if len(b.lines) == 0 {
			return true
		}
		select {
		case jobs <- b:
		case <-ctx.Done():
			return false
		}
		seq++
		b = &lineBatch{seq: seq, first: lineNo}
		return true
	}
	for {
		line, tooLong, err := readLine(r)
		if err == io.EOF && line == nil {
			break
		}
		if err != nil && err != io.EOF {
			send()
			return err
		}
		b.lines = append(b.lines, line)
		b.tooLong = append(b.tooLong, tooLong)
		lineNo++
		// Hand the batch out when it is full or when no more input is waiting, so an interactive
		// producer gets its answer without filling a batch first.
		if len(b.lines) == classifyBatch || r.Buffered() == 0 {
			if !send() {
				return ctx.Err()
			}
		}
		if err == io.EOF {
			break
		}
	}
	send()
	return nil
}

// readLine returns the next line without its line ending. An over-long line is consumed to its end and
// returned truncated with tooLong set. At EOF without a final newline the last line still counts.
func readLine(r *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) <= maxClassifyLine {
			line = append(line, chunk...)
		} else {
			tooLong = true
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			if len(line) == 0 && !tooLong {
				return nil, false, io.EOF
			}
			return bytes.TrimRight(line, "\r\n"), tooLong, io.EOF
		case err != nil:
			return nil, false, err
		}
		if line == nil {
			line = []byte{}
		}
		return bytes.TrimRight(line, "\r\n"), tooLong, nil
	}
}

// line classifies one input line and appends exactly one JSON line to buf.
func (c *classifier) line(buf *bytes.Buffer, n int64, line []byte, tooLong bool) {
	var in classifyIn
	var res any
	switch {
	case tooLong:
		res = classifyErr{Line: n, Error: fmt.Sprintf("line longer than %d bytes", maxClassifyLine)}
	case len(bytes.TrimSpace(line)) == 0:
		res = classifyErr{Line: n, Error: "empty line"}
	default:
		if err := decodeInput(line, &in); err != nil {
			res = classifyErr{Line: n, Error: "bad JSON: " + err.Error()}
		} else if in.Text == nil {
			res = classifyErr{ID: in.ID, Line: n, Error: `no "text" field`}
		} else {
			out := c.one(in.ID, *in.Text)
			b, err := out.appendJSON(buf.AvailableBuffer())
			if err == nil {
				buf.Write(b)
				buf.WriteByte('\n')
				return
			}
			res = classifyErr{ID: in.ID, Line: n, Error: "encode: " + err.Error()}
		}
	}
	b, err := json.Marshal(res)
	if err != nil { // an id Unmarshal accepted always encodes; still never lose the line
		b, _ = json.Marshal(classifyErr{Line: n, Error: "encode: " + err.Error()})
	}
	buf.Write(b)
	buf.WriteByte('\n')
}

// routed resolves the text's municipality and routes the prediction there. The predicted executor is
// offered to the resolver as a last resort for the OKTMO, but a municipality found only that way does
// not re-route (it would just echo the prediction).
func routed(res *resolve.Resolver, rt *route.Router, text string, p classify.Prediction) (top3 []classify.Label, mun geo.Municipality, ok bool) {
	a := model.Appeal{Text: text, Agency: p.Executor.Name}
	mun, method, ok := res.Resolve(&a)
	agency, conf := rt.Route(p, mun, ok && method != resolve.MethodAgency)
	top3 = p.Top3.Executor
	if agency != p.Executor.Name {
		top3 = prependLabel(classify.Label{Name: agency, Conf: conf}, top3)
	}
	return top3, mun, ok
}

func (c *classifier) one(id json.RawMessage, text string) classifyOut {
	p := c.engine.Classify(text)
	execTop, mun, ok := routed(c.resolver, c.router, text, p)
	o := classifyOut{
		ID: id, Category: p.Category.Name, Theme: p.Theme.Name, Executor: execTop[0].Name,
		Confidence: p.Category.Conf, ThemeConfidence: p.Theme.Conf, ExecutorConfidence: execTop[0].Conf,
		Top3: classifyTop3{Category: p.Top3.Category, Theme: p.Top3.Theme, Executor: execTop},
		Rule: p.Rule, Municipality: model.Unresolved,
	}
	if ok {
		o.OKTMO, o.Municipality = mun.OKTMO, mun.DisplayName()
	}
	if len(o.ID) == 0 {
		o.ID = json.RawMessage("null")
	}
	return o
}

func prependLabel(l classify.Label, rest []classify.Label) []classify.Label {
	out := []classify.Label{l}
	for _, r := range rest {
		if len(out) < 3 && r.Name != l.Name {
			out = append(out, r)
		}
	}
	return out
}
