// Command hostpath-provisioner dynamically provisions PersistentVolumes as
// directories on the single node of the embedded cluster.
//
// It runs as a host process beside the kubelet, so it creates and removes the
// directories itself; each PV is a `local` volume pinned to the node, which
// lets the kubelet apply a pod's fsGroup (hostPath volumes would ignore it).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/sig-storage-lib-external-provisioner/v13/controller"
)

const (
	defaultProvisionerName = "taskflow.local/hostpath"
	// annotationPath records the directory so Delete never derives it from
	// anything a user can edit after provisioning.
	annotationPath = "taskflow.local/hostpath"
)

// hostPathProvisioner implements controller.Provisioner on a local directory.
type hostPathProvisioner struct {
	root     string
	nodeName string
}

var errOutsideRoot = errors.New("path is outside the provisioner root")

func (p *hostPathProvisioner) Provision(_ context.Context, opts controller.ProvisionOptions) (*v1.PersistentVolume, controller.ProvisioningState, error) {
	pvc := opts.PVC
	if pvc.Spec.VolumeMode != nil && *pvc.Spec.VolumeMode == v1.PersistentVolumeBlock {
		return nil, controller.ProvisioningFinished, errors.New("block volumes are not supported")
	}
	node := opts.SelectedNodeName
	if node == "" {
		node = p.nodeName
	}
	if node != p.nodeName {
		return nil, controller.ProvisioningFinished, fmt.Errorf("node %q selected, this provisioner serves %q", node, p.nodeName)
	}
	dir := filepath.Join(p.root, fmt.Sprintf("%s_%s_%s", pvc.Namespace, pvc.Name, opts.PVName))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, controller.ProvisioningFinished, fmt.Errorf("create %s: %w", dir, err)
	}
	// Pods run as arbitrary non-root users, some without an fsGroup; the
	// directory must be writable for them (as with local-path-provisioner).
	if err := os.Chmod(dir, 0o777); err != nil {
		return nil, controller.ProvisioningFinished, fmt.Errorf("chmod %s: %w", dir, err)
	}
	reclaim := v1.PersistentVolumeReclaimDelete
	if opts.StorageClass.ReclaimPolicy != nil {
		reclaim = *opts.StorageClass.ReclaimPolicy
	}
	fs := v1.PersistentVolumeFilesystem
	pv := &v1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        opts.PVName,
			Annotations: map[string]string{annotationPath: dir},
		},
		Spec: v1.PersistentVolumeSpec{
			PersistentVolumeReclaimPolicy: reclaim,
			AccessModes:                   pvc.Spec.AccessModes,
			MountOptions:                  opts.StorageClass.MountOptions,
			VolumeMode:                    &fs,
			Capacity: v1.ResourceList{
				v1.ResourceStorage: pvc.Spec.Resources.Requests[v1.ResourceStorage],
			},
			PersistentVolumeSource: v1.PersistentVolumeSource{
				Local: &v1.LocalVolumeSource{Path: dir},
			},
			NodeAffinity: &v1.VolumeNodeAffinity{
				Required: &v1.NodeSelector{
					NodeSelectorTerms: []v1.NodeSelectorTerm{{
						MatchExpressions: []v1.NodeSelectorRequirement{{
							Key:      v1.LabelHostname,
							Operator: v1.NodeSelectorOpIn,
							Values:   []string{node},
						}},
					}},
				},
			},
		},
	}
	klog.InfoS("provisioned", "pv", opts.PVName, "pvc", klog.KObj(pvc), "path", dir)
	return pv, controller.ProvisioningFinished, nil
}

func (p *hostPathProvisioner) Delete(_ context.Context, pv *v1.PersistentVolume) error {
	dir, ok := pv.Annotations[annotationPath]
	if !ok {
		return &controller.IgnoredError{Reason: "PV has no " + annotationPath + " annotation"}
	}
	if err := p.checkInsideRoot(dir); err != nil {
		return err
	}
	if pv.Spec.PersistentVolumeReclaimPolicy == v1.PersistentVolumeReclaimRetain {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	klog.InfoS("deleted", "pv", pv.Name, "path", dir)
	return nil
}

func (p *hostPathProvisioner) checkInsideRoot(dir string) error {
	clean := filepath.Clean(dir)
	if clean != dir || !strings.HasPrefix(clean, p.root+string(filepath.Separator)) {
		return fmt.Errorf("%s: %w %s", dir, errOutsideRoot, p.root)
	}
	return nil
}

func main() {
	klog.InitFlags(nil)
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster")
	root := flag.String("root", "", "directory that holds the volumes (absolute)")
	nodeName := flag.String("node-name", "", "the node whose directories these are")
	name := flag.String("provisioner-name", defaultProvisionerName, "provisioner name that StorageClasses refer to")
	metricsPort := flag.Int("metrics-port", 0, "serve /metrics on 127.0.0.1:PORT (0: off); doubles as the liveness check")
	flag.Parse()

	if *root == "" || !filepath.IsAbs(*root) || *nodeName == "" {
		fmt.Fprintln(os.Stderr, "hostpath-provisioner: --root (absolute) and --node-name are required")
		os.Exit(2)
	}
	if err := os.MkdirAll(*root, 0o755); err != nil {
		klog.Fatalf("create root: %v", err)
	}
	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		klog.Fatalf("kubeconfig: %v", err)
	}
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		klog.Fatalf("client: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	p := &hostPathProvisioner{root: filepath.Clean(*root), nodeName: *nodeName}
	// One node, one provisioner process: leader election would only add a
	// lease round-trip to every start.
	pc := controller.NewProvisionController(ctx, client, *name, p,
		controller.LeaderElection(false),
		controller.MetricsAddress("127.0.0.1"),
		controller.MetricsPort(int32(*metricsPort)),
	)
	klog.InfoS("starting", "provisioner", *name, "root", p.root, "node", p.nodeName)
	pc.Run(ctx)
}
