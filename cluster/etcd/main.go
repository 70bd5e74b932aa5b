// Command etcd is the stock etcd server, built from the published
// go.etcd.io/etcd/server/v3 module so the embedded cluster needs no release download.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
