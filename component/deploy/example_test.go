package deploy_test

import (
	"fmt"

	"github.com/glyph-ipc/glyph/component/deploy"
)

func ExampleParse() {
	d, err := deploy.Parse("deploy.yaml", []byte(`
version: 1
components:
  Storage: {binary: ./bin/search, replicas: 2}
  Search: {binary: ./bin/search, uses: [Storage], public: true}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range d.Processes() {
		fmt.Println(p.Name, p.Replicas, p.Main().Transport, p.Uses)
	}

	_, err = deploy.Parse("deploy.yaml", []byte(`
version: 1
components:
  Storage: {binary: ./bin/search, replicas: 0}
`))
	fmt.Println(err)
	// Output:
	// Storage 2 unix []
	// Search 1 unix [Storage]
	// deploy.yaml:4: Storage.replicas: want a positive integer, got 0
}
