package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	v1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/sig-storage-lib-external-provisioner/v13/controller"
)

func claim() *v1.PersistentVolumeClaim {
	return &v1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "data"},
		Spec: v1.PersistentVolumeClaimSpec{
			AccessModes: []v1.PersistentVolumeAccessMode{v1.ReadWriteOnce},
			Resources: v1.VolumeResourceRequirements{
				Requests: v1.ResourceList{v1.ResourceStorage: resource.MustParse("1Gi")},
			},
		},
	}
}

func TestProvisionThenDelete(t *testing.T) {
	root := t.TempDir()
	p := &hostPathProvisioner{root: root, nodeName: "node1"}
	pv, state, err := p.Provision(context.Background(), controller.ProvisionOptions{
		StorageClass: &storagev1.StorageClass{}, PVName: "pvc-1", PVC: claim(), SelectedNodeName: "node1",
	})
	if err != nil || state != controller.ProvisioningFinished {
		t.Fatalf("provision: %v %v", state, err)
	}
	dir := pv.Spec.Local.Path
	if filepath.Dir(dir) != root {
		t.Fatalf("dir %s not under %s", dir, root)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o777 {
		t.Fatalf("dir not created world-writable: %v %v", info, err)
	}
	if got := pv.Spec.NodeAffinity.Required.NodeSelectorTerms[0].MatchExpressions[0].Values[0]; got != "node1" {
		t.Fatalf("node affinity %q", got)
	}
	if pv.Spec.PersistentVolumeReclaimPolicy != v1.PersistentVolumeReclaimDelete {
		t.Fatalf("reclaim %v", pv.Spec.PersistentVolumeReclaimPolicy)
	}
	if err := p.Delete(context.Background(), pv); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("dir still there: %v", err)
	}
}

func TestDeleteRefusesPathOutsideRoot(t *testing.T) {
	outside := t.TempDir()
	p := &hostPathProvisioner{root: t.TempDir(), nodeName: "node1"}
	pv := &v1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{
		Name: "pv", Annotations: map[string]string{annotationPath: outside},
	}}
	if err := p.Delete(context.Background(), pv); !errors.Is(err, errOutsideRoot) {
		t.Fatalf("want errOutsideRoot, got %v", err)
	}
	pv.Annotations[annotationPath] = p.root + "/../x"
	if err := p.Delete(context.Background(), pv); !errors.Is(err, errOutsideRoot) {
		t.Fatalf("want errOutsideRoot for unclean path, got %v", err)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Fatalf("outside dir touched: %v", err)
	}
}

func TestProvisionRefusesOtherNode(t *testing.T) {
	p := &hostPathProvisioner{root: t.TempDir(), nodeName: "node1"}
	_, _, err := p.Provision(context.Background(), controller.ProvisionOptions{
		StorageClass: &storagev1.StorageClass{}, PVName: "pvc-1", PVC: claim(), SelectedNodeName: "other",
	})
	if err == nil {
		t.Fatal("want error for another node")
	}
}
